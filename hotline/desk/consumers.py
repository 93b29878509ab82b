"""The agent's desk websocket: the agent's own events (state changes, the ringing call for the
screen pop, call updates and command results).

When the socket opens it first sends a ``snapshot`` of the agent's state and current call, so a
page that reconnects after a network blip (or a server restart) shows what happened meanwhile.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from hotline.contactcentre.services import DESK_ROLES
from hotline.desk.fanout import EventConsumer, agent_group


def _snapshot(user_id: int) -> dict[str, Any]:
    from hotline.contactcentre.models import AgentStatus
    from hotline.desk.views import state_snapshot

    status = AgentStatus.objects.select_related("call", "extension").filter(pk=user_id).first()
    return {"kind": "snapshot", **state_snapshot(status)}


class DeskConsumer(EventConsumer):
    async def allowed(self, user: Any) -> bool:
        return user.role in DESK_ROLES

    async def groups_for(self, user: Any) -> list[str]:
        return [agent_group(user.pk)]

    async def on_open(self, user: Any) -> None:
        await self.send_json(await database_sync_to_async(_snapshot)(user.pk))
