"""Read the database into the pure ACD's values (``hotline.contactcentre.acd.routing``).

Times become POSIX seconds: the pure code only compares and subtracts them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from hotline.contactcentre.acd.routing import (
    AgentView,
    OverflowAction,
    QueueRules,
    WaitingCall,
)
from hotline.contactcentre.acd.routing import OverflowRule as PureRule
from hotline.contactcentre.acd.states import AgentState
from hotline.contactcentre.models import (
    AgentStatus,
    CallOutcome,
    OverflowRule,
    Queue,
    QueuedCall,
    State,
)


def seconds(value: dt.datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def queue_rules() -> dict[str, QueueRules]:
    """Every active queue's rules, keyed by the queue's id as a string (two queries: the
    queues with their required skills, then the overflow rules)."""
    queues: dict[int, tuple[float, float]] = {}
    required: dict[int, dict[str, int]] = defaultdict(dict)
    for pk, sticky, aht, skill, level in Queue.objects.filter(active=True).values_list(
            "pk", "sticky_wait_s", "aht_s", "skills__skill__code", "skills__min_level"):
        queues[pk] = (float(sticky), float(aht))
        if skill is not None:
            required[pk][skill] = level
    rules: dict[int, list[PureRule]] = defaultdict(list)
    for rule in OverflowRule.objects.filter(queue_id__in=list(queues)).order_by(
            "queue_id", "position", "after_s", "id"):
        rules[rule.queue_id].append(PureRule(
            after_s=float(rule.after_s), action=OverflowAction(rule.action),
            target_queue=str(rule.target_queue_id or ""), only_unstaffed=rule.only_unstaffed,
        ))
    return {
        str(pk): QueueRules(code=str(pk), required=required[pk], sticky_wait_s=sticky,
                            overflow=tuple(rules[pk]), aht_s=aht)
        for pk, (sticky, aht) in queues.items()
    }


def agent_views() -> list[AgentView]:
    """Every signed-in agent with state, idle-since time and skill levels (one query)."""
    rows: dict[int, tuple[str, dt.datetime | None]] = {}
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    for agent_id, state, idle_since, code, level in (
            AgentStatus.objects.exclude(state=State.SIGNED_OUT).values_list(
                "agent_id", "state", "idle_since", "agent__skills__skill__code",
                "agent__skills__level")):
        rows[agent_id] = (state, idle_since)
        if code is not None:
            skills[agent_id][code] = level
    return [AgentView(id=agent_id, state=AgentState(state), idle_since=seconds(idle_since),
                      skills=skills[agent_id])
            for agent_id, (state, idle_since) in rows.items()]


def waiting_calls(queue_ids: list[int] | None = None, *,
                  gateway: str | None = None) -> list[WaitingCall]:
    calls = QueuedCall.objects.filter(outcome=CallOutcome.WAITING)
    if queue_ids is not None:
        calls = calls.filter(queue_id__in=queue_ids)
    if gateway is not None:
        calls = calls.filter(gateway=gateway)
    return [
        WaitingCall(id=pk, queue=str(queue), queued_at=queued.timestamp(),
                    entered_at=entered.timestamp(), priority=priority, sticky_agent=sticky,
                    overflow_step=step)
        for pk, queue, queued, entered, priority, sticky, step in calls.values_list(
            "pk", "queue_id", "queued_at", "entered_at", "priority", "sticky_agent_id",
            "overflow_step")
    ]
