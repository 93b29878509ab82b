"""The agent's desk websocket: the agent's own events (state changes, the ringing call for the
screen pop, call updates and command results)."""

from __future__ import annotations

from typing import Any

from hotline.desk.fanout import EventConsumer, agent_group
from hotline.desk.services import DESK_ROLES


class DeskConsumer(EventConsumer):
    async def allowed(self, user: Any) -> bool:
        return user.role in DESK_ROLES

    async def groups_for(self, user: Any) -> list[str]:
        return [agent_group(user.pk)]
