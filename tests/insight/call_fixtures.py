"""Calls made through the contact centre's services at known times, for the call statistics'
tests (rollups, reports, pages)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hotline.contactcentre import services
from hotline.contactcentre.commands import do_update_call
from hotline.insight import call_rollups
from tests.contactcentre.conftest import at


def floor(moment: dt.datetime) -> dt.datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def answered_call(queue: Any, ref: str, queued: float, offered: float, answered: float) -> int:
    call = services.do_enqueue_call(queue, call_ref=ref, caller="13800000000", now=at(queued))
    result = services.do_route(at(offered))
    assert [o.call for o in result.offers] == [call.pk]
    services.do_call_answered(call.pk, at(answered))
    return call.pk


@pytest.fixture
def floor_day(desk: Any) -> Any:
    """alice takes two calls, two callers hang up (one within 5 s), all in the 09:00 UTC hour."""
    alice = desk.agent
    services.do_sign_in(alice, now=at(0))
    services.do_set_state(alice, "ready", now=at(0))
    first = answered_call(desk.general, "c1", 10, 12, 20)  # waited 10 s
    do_update_call(first, on_hold=True, now=at(30))
    do_update_call(first, on_hold=True, now=at(35))  # a repeated report does not restart it
    do_update_call(first, on_hold=False, now=at(50))  # 20 s on hold
    services.do_call_ended(first, at(80))  # talked 60 s
    assert services.do_expire_wrap_ups(at(95)) == [alice.pk]  # 15 s of wrap-up
    short = services.do_enqueue_call(desk.general, call_ref="c2", now=at(100))
    services.do_call_abandoned(short.pk, at(103))
    lost = services.do_enqueue_call(desk.general, call_ref="c3", now=at(110))
    services.do_call_abandoned(lost.pk, at(140))
    desk.second = answered_call(desk.general, "c4", 200, 205, 230)  # waited 30 s
    return desk



@pytest.fixture
def rolled(floor_day: Any) -> Any:
    """The floor day with every call finished and the rollups refreshed at 09:08:20 UTC."""
    services.do_call_ended(floor_day.second, at(400))
    services.do_expire_wrap_ups(at(415))
    call_rollups.refresh_call_rollups(at(500))
    return floor_day
