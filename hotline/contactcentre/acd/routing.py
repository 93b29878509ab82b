"""Which waiting call goes to which agent, pure.

The caller (the desk services, the benchmark) takes a snapshot: the waiting calls, the agents
with their state, idle-since time and skill levels, the queues' rules. ``select_offers`` answers
with offers; the caller claims each agent with one conditional UPDATE and, when a claim fails
because another process was faster, takes a fresh snapshot and asks again. Nothing here keeps
state between calls, so any number of gateway processes can route against one database.

Order of service: higher priority first (tagged vulnerable callers), then the time the caller
first joined a queue (FIFO; an overflowed call keeps its place), then the call id. Each call
gets the qualified idle agent that has been idle longest; ties go to the higher total skill
level, then the lower agent id. A call with a sticky agent (the agent who created the caller's
open order) waits for that agent during the queue's sticky window, as long as that agent is
signed in and in a state that ends by itself (talking, wrap-up...).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from hotline.contactcentre.acd.states import BECOMING_FREE, SIGNED_IN_STATES, AgentState

# Citizen tags (hotline.orders.models.CitizenTag values) that give a caller priority.
VULNERABLE_TAGS = frozenset({"elderly", "disabled"})
NORMAL, PRIORITY = 0, 1


class OverflowAction(StrEnum):
    QUEUE = "queue"  # move to another queue, keeping the place by first arrival
    VOICEMAIL = "voicemail"  # 留言: record a message (the mayor's mailbox)
    CALLBACK = "callback"  # 回呼: take the number for a call back


@dataclass(frozen=True)
class OverflowRule:
    after_s: float  # seconds in this queue before the rule fires
    action: OverflowAction
    target_queue: str = ""  # for OverflowAction.QUEUE
    only_unstaffed: bool = False  # fire only when no qualified agent is signed in


@dataclass(frozen=True)
class QueueRules:
    code: str
    required: Mapping[str, int] = field(default_factory=dict)  # skill -> minimum level
    sticky_wait_s: float = 0.0
    overflow: tuple[OverflowRule, ...] = ()
    aht_s: float = 180.0  # average handling time for the expected-wait estimate


@dataclass(frozen=True)
class AgentView:
    id: int
    state: AgentState
    idle_since: float | None  # seconds (any epoch, the same for every value in a snapshot)
    skills: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class WaitingCall:
    id: int
    queue: str
    queued_at: float  # first joined any queue: the order of service and the wait
    entered_at: float | None = None  # joined this queue (after an overflow); overflow timers
    priority: int = NORMAL
    sticky_agent: int | None = None
    overflow_step: int = 0  # rules of this queue already applied

    @property
    def in_queue_since(self) -> float:
        return self.queued_at if self.entered_at is None else self.entered_at


@dataclass(frozen=True)
class Offer:
    call: int
    agent: int


@dataclass(frozen=True)
class Overflow:
    call: int
    rule: OverflowRule
    step: int  # the rule's index in its queue's list


def priority_for_tags(tags: Iterable[str]) -> int:
    return PRIORITY if VULNERABLE_TAGS.intersection(tags) else NORMAL


def qualifies(agent: AgentView, queue: QueueRules) -> bool:
    return all(agent.skills.get(skill, 0) >= level for skill, level in queue.required.items())


def skill_score(agent: AgentView, queue: QueueRules) -> int:
    return sum(agent.skills.get(skill, 0) for skill in queue.required)


def service_order(call: WaitingCall) -> tuple[int, float, int]:
    return (-call.priority, call.queued_at, call.id)


def _sticky_hold(call: WaitingCall, queue: QueueRules, agents: Mapping[int, AgentView],
                 now: float) -> AgentView | None:
    """The sticky agent the call still waits for, or None when it may go to anyone."""
    if call.sticky_agent is None or now >= call.queued_at + queue.sticky_wait_s:
        return None
    agent = agents.get(call.sticky_agent)
    if agent is None or agent.state not in BECOMING_FREE or not qualifies(agent, queue):
        return None  # signed out, on a break or not qualified: waiting would be pointless
    return agent


def select_offers(calls: Sequence[WaitingCall], agents: Sequence[AgentView],
                  queues: Mapping[str, QueueRules], now: float) -> list[Offer]:
    """Offers for as many waiting calls as there are qualified idle agents."""
    by_id = {a.id: a for a in agents}
    free = [a for a in agents if a.state == AgentState.IDLE]
    free.sort(key=lambda a: (math.inf if a.idle_since is None else a.idle_since, a.id))
    taken: set[int] = set()
    offers: list[Offer] = []
    for call in sorted(calls, key=service_order):
        if len(taken) == len(free):
            break
        queue = queues.get(call.queue)
        if queue is None:
            continue
        sticky = _sticky_hold(call, queue, by_id, now)
        if sticky is not None:
            if sticky.state == AgentState.IDLE and sticky.id not in taken:
                taken.add(sticky.id)
                offers.append(Offer(call.id, sticky.id))
            continue
        best: AgentView | None = None
        for agent in free:
            if agent.id in taken or not qualifies(agent, queue):
                continue
            if best is None:
                best = agent
            elif agent.idle_since != best.idle_since:
                break  # `free` is sorted by idle time: nobody later has been idle longer
            elif skill_score(agent, queue) > skill_score(best, queue):
                best = agent
        if best is not None:
            taken.add(best.id)
            offers.append(Offer(call.id, best.id))
    return offers


def staffed(queue: QueueRules, agents: Iterable[AgentView]) -> int:
    """Signed-in agents qualified for the queue (idle, busy or on a call)."""
    return sum(1 for a in agents if a.state in SIGNED_IN_STATES and qualifies(a, queue))


def serving(queue: QueueRules, agents: Iterable[AgentView]) -> int:
    """Qualified agents taking calls now or soon (not on a break, not just signed in)."""
    return sum(1 for a in agents if a.state in BECOMING_FREE and qualifies(a, queue))


def due_overflows(calls: Sequence[WaitingCall], agents: Sequence[AgentView],
                  queues: Mapping[str, QueueRules], now: float) -> list[Overflow]:
    """The next overflow rule of each waiting call whose time has come."""
    due: list[Overflow] = []
    for call in sorted(calls, key=service_order):
        queue = queues.get(call.queue)
        if queue is None:
            continue
        for step in range(call.overflow_step, len(queue.overflow)):
            rule = queue.overflow[step]
            if now < call.in_queue_since + rule.after_s:
                break
            if rule.only_unstaffed and staffed(queue, agents) > 0:
                continue  # skipped for good: the next rule may still apply
            due.append(Overflow(call.id, rule, step))
            break
    return due


def next_wakeup(calls: Sequence[WaitingCall], queues: Mapping[str, QueueRules],
                now: float) -> float | None:
    """The earliest future time at which routing may decide differently without any event:
    a sticky window ends or an overflow rule comes due."""
    times: list[float] = []
    for call in calls:
        queue = queues.get(call.queue)
        if queue is None:
            continue
        if call.sticky_agent is not None and call.queued_at + queue.sticky_wait_s > now:
            times.append(call.queued_at + queue.sticky_wait_s)
        if call.overflow_step < len(queue.overflow):
            times.append(max(now, call.in_queue_since + queue.overflow[call.overflow_step].after_s))
    return min(times) if times else None


def positions(calls: Sequence[WaitingCall]) -> dict[int, int]:
    """Each waiting call's position in its queue, 1 for the next to be served."""
    result: dict[int, int] = {}
    counts: dict[str, int] = {}
    for call in sorted(calls, key=service_order):
        counts[call.queue] = counts.get(call.queue, 0) + 1
        result[call.id] = counts[call.queue]
    return result


def expected_wait_s(position: int, serving_agents: int, aht_s: float) -> float | None:
    """Expected wait for the caller at ``position``: the agents free up one every
    aht/serving seconds on average, and the caller needs ``position`` of them. None when
    nobody serves the queue (the announcement then says nothing about time)."""
    if serving_agents <= 0:
        return None
    return position * aht_s / serving_agents


def announced_minutes(wait_s: float | None) -> int | None:
    """Round an estimate up to whole minutes for the announcement (at least 1)."""
    if wait_s is None:
        return None
    return max(1, math.ceil(wait_s / 60.0))
