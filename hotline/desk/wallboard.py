"""The supervisor's wallboard websocket: every desk event, for shift monitors."""

from __future__ import annotations

from typing import Any

from hotline.desk.commands import MONITOR_ROLES
from hotline.desk.fanout import WALLBOARD_GROUP, EventConsumer


class WallboardConsumer(EventConsumer):
    async def allowed(self, user: Any) -> bool:
        return user.role in MONITOR_ROLES

    async def groups_for(self, user: Any) -> list[str]:
        return [WALLBOARD_GROUP]
