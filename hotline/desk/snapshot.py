"""Read the database into the pure ACD's values (``hotline.voice.acd.routing``).

Times become POSIX seconds: the pure code only compares and subtracts them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from hotline.desk.models import (
    AgentSkill,
    AgentStatus,
    CallOutcome,
    OverflowRule,
    Queue,
    QueuedCall,
    QueueSkill,
    State,
)
from hotline.voice.acd.routing import (
    AgentView,
    OverflowAction,
    QueueRules,
    WaitingCall,
)
from hotline.voice.acd.routing import OverflowRule as PureRule
from hotline.voice.acd.states import AgentState


def seconds(value: dt.datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def queue_rules() -> dict[str, QueueRules]:
    """Every active queue's rules, keyed by the queue's id as a string."""
    queues = list(Queue.objects.filter(active=True))
    required: dict[int, dict[str, int]] = defaultdict(dict)
    for queue_id, skill, level in QueueSkill.objects.values_list("queue_id", "skill__code",
                                                                 "min_level"):
        required[queue_id][skill] = level
    rules: dict[int, list[PureRule]] = defaultdict(list)
    for rule in OverflowRule.objects.order_by("queue_id", "position", "after_s", "id"):
        rules[rule.queue_id].append(PureRule(
            after_s=float(rule.after_s), action=OverflowAction(rule.action),
            target_queue=str(rule.target_queue_id or ""), only_unstaffed=rule.only_unstaffed,
        ))
    return {
        str(q.pk): QueueRules(code=str(q.pk), required=required[q.pk],
                              sticky_wait_s=float(q.sticky_wait_s),
                              overflow=tuple(rules[q.pk]), aht_s=float(q.aht_s))
        for q in queues
    }


def agent_views() -> list[AgentView]:
    """Every signed-in agent with state, idle-since time and skill levels."""
    rows = list(AgentStatus.objects.exclude(state=State.SIGNED_OUT)
                .values_list("agent_id", "state", "idle_since"))
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    ids = [row[0] for row in rows]
    for agent_id, code, level in AgentSkill.objects.filter(agent_id__in=ids).values_list(
            "agent_id", "skill__code", "level"):
        skills[agent_id][code] = level
    return [AgentView(id=agent_id, state=AgentState(state), idle_since=seconds(idle_since),
                      skills=skills[agent_id])
            for agent_id, state, idle_since in rows]


def waiting_calls(queue_ids: list[int] | None = None) -> list[WaitingCall]:
    calls = QueuedCall.objects.filter(outcome=CallOutcome.WAITING)
    if queue_ids is not None:
        calls = calls.filter(queue_id__in=queue_ids)
    return [
        WaitingCall(id=pk, queue=str(queue), queued_at=queued.timestamp(),
                    entered_at=entered.timestamp(), priority=priority, sticky_agent=sticky,
                    overflow_step=step)
        for pk, queue, queued, entered, priority, sticky, step in calls.values_list(
            "pk", "queue_id", "queued_at", "entered_at", "priority", "sticky_agent_id",
            "overflow_step")
    ]
