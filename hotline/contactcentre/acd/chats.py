"""Which waiting chat goes to which agent, pure: the same queues, skills and order of service
as calls (``routing``), but an agent holds up to ``capacity`` chats at once, beside a call.

An agent takes chats while ready or at work on a call (idle, ringing, talking, wrap-up), never
on a break or signed in but not ready: "not ready" means not ready for citizens on any channel.
Each chat, in the order of service (priority, then first waiting), goes to the qualified agent
with the fewest open chats; ties go to the higher skill total, then the longest idle, then the
lower id. The caller claims each offer with one conditional UPDATE, as for calls.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hotline.contactcentre.acd.routing import (
    AgentView,
    Offer,
    QueueRules,
    WaitingCall,
    qualifies,
    service_order,
    skill_score,
)
from hotline.contactcentre.acd.states import AgentState

TAKES_CHATS = frozenset({AgentState.IDLE, AgentState.RINGING, AgentState.TALKING,
                         AgentState.WRAP_UP})


@dataclass(frozen=True)
class ChatAgent:
    agent: AgentView
    open_chats: int


def select_chat_offers(chats: Sequence[WaitingCall], agents: Sequence[ChatAgent],
                       queues: Mapping[str, QueueRules], capacity: int) -> list[Offer]:
    load = {a.agent.id: a.open_chats for a in agents if a.agent.state in TAKES_CHATS}
    views = {a.agent.id: a.agent for a in agents if a.agent.id in load}
    offers: list[Offer] = []
    for chat in sorted(chats, key=service_order):
        queue = queues.get(chat.queue)
        if queue is None:
            continue
        candidates = [v for v in views.values() if load[v.id] < capacity and qualifies(v, queue)]
        if not candidates:
            continue
        best = min(candidates, key=lambda v: (
            load[v.id], -skill_score(v, queue),
            math.inf if v.idle_since is None else v.idle_since, v.id))
        load[best.id] += 1
        offers.append(Offer(chat.id, best.id))
    return offers


def position_in_queue(chat_id: int, chats: Sequence[WaitingCall]) -> int:
    """1 for the next chat served in its queue; 0 when it no longer waits."""
    mine = next((c for c in chats if c.id == chat_id), None)
    if mine is None:
        return 0
    ahead = [c for c in chats if c.queue == mine.queue and service_order(c) < service_order(mine)]
    return len(ahead) + 1
