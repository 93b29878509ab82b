"""The supervisor's wallboard over the REST API (mounted at /api/v1/desk/), for outside big
screens and dashboards: ``GET /desk/wallboard`` gives the same figures as the page
(``hotline.contactcentre.stats``; the definitions are in its docstring). Shift monitors and centre
administrators only; callers' numbers are masked as on the page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from hotline.api.auth import actor
from hotline.api.rules import allow
from hotline.api.schemas import ErrorOut
from hotline.contactcentre import stats
from hotline.contactcentre.commands import MONITOR_ROLES
from hotline.core.errors import Forbidden

router = Router(tags=["desk"])


class WindowOut(Schema):
    minutes: int
    offered: int = Field(description="calls that joined the ACD in the window")
    answered: int
    answered_in_target: int = Field(description="answered within the queue's target seconds")
    abandoned: int = Field(description=f"abandoned after more than {stats.SHORT_ABANDON_S:g} s")
    short_abandoned: int = Field(description="abandoned within 5 s: in no rate")
    overflowed: int
    service_level: float | None = Field(
        description="answered_in_target / (answered + abandoned); null without calls")
    abandon_rate: float | None
    average_wait_s: float | None = Field(description="of the answered calls")
    average_talk_s: float | None = Field(description="of the calls that ended in the window")


class ForecastOut(Schema):
    arrivals: int = Field(description="calls offered in the last 60 minutes")
    aht_s: float
    load_erlangs: float
    agents_needed: int = Field(description="Erlang C, for the target share within the target")
    serving: int = Field(description="qualified agents ready, ringing, talking or in wrap-up")


class QueueOut(Schema):
    code: str
    name: str
    service_level_s: int
    waiting: int
    longest_wait_s: float | None
    last15: WindowOut
    last60: WindowOut
    forecast: ForecastOut


class AgentCountsOut(Schema):
    signed_in: int
    not_yet_ready: int
    ready: int
    not_ready: int
    not_ready_by_reason: dict[str, int]
    ringing: int
    talking: int
    wrap_up: int


class AgentOut(Schema):
    id: int
    name: str
    extension: str
    state: str
    reason: str
    since: dt.datetime
    seconds_in_state: float
    call: int | None
    caller: str = Field(description="masked: 138****0000")
    on_hold: bool
    calls_today: int


class WallboardOut(Schema):
    now: dt.datetime
    target_share: float
    waiting: int
    longest_wait_s: float | None
    last15: WindowOut
    last60: WindowOut
    agents: AgentCountsOut
    queues: list[QueueOut]
    agent_rows: list[AgentOut]


def _window(w: stats.WindowFigures) -> dict[str, Any]:
    return {
        "minutes": w.minutes, "offered": w.offered, "answered": w.answered,
        "answered_in_target": w.answered_in_target, "abandoned": w.abandoned,
        "short_abandoned": w.short_abandoned, "overflowed": w.overflowed,
        "service_level": w.service_level, "abandon_rate": w.abandon_rate,
        "average_wait_s": w.average_wait_s, "average_talk_s": w.average_talk_s,
    }


def board_json(board: stats.Wallboard) -> dict[str, Any]:
    return {
        "now": board.now, "target_share": board.target_share, "waiting": board.waiting,
        "longest_wait_s": board.longest_wait_s, "last15": _window(board.last15),
        "last60": _window(board.last60), "agents": vars(board.agents),
        "queues": [{
            "code": q.code, "name": q.name, "service_level_s": q.service_level_s,
            "waiting": q.waiting, "longest_wait_s": q.longest_wait_s,
            "last15": _window(q.last15), "last60": _window(q.last60),
            "forecast": {"arrivals": q.forecast.arrivals, "aht_s": q.forecast.aht_s,
                         "load_erlangs": q.forecast.load,
                         "agents_needed": q.forecast.agents_needed,
                         "serving": q.forecast.serving},
        } for q in board.queues],
        "agent_rows": [{
            "id": r.id, "name": r.name, "extension": r.extension, "state": r.state,
            "reason": r.reason, "since": r.since, "seconds_in_state": r.seconds_in_state,
            "call": r.call_id, "caller": r.caller, "on_hold": r.on_hold,
            "calls_today": r.calls_today,
        } for r in board.agent_rows],
    }


@router.get("/wallboard", response={200: WallboardOut, 403: ErrorOut},
            summary="The supervisor's wallboard figures")
@allow(*MONITOR_ROLES,
       refusal="only shift monitors and centre administrators see the wallboard")
def wallboard_endpoint(request: HttpRequest) -> dict[str, Any]:
    if actor(request).role not in MONITOR_ROLES:
        raise Forbidden("only shift monitors and centre administrators see the wallboard")
    return board_json(stats.wallboard())
