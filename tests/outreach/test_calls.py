"""Outbound calls as rows: queueing, the claim (one winner), the rules at claim time, attempts,
recovery and telling the owner once."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from hotline.outreach import calls
from hotline.outreach.models import CallAttempt, OutboundCall, Outcome, Purpose

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = dt.datetime(2026, 12, 3, 12, 0, tzinfo=TZ)
FLOW = {"start": "bye", "nodes": {"bye": {"type": "hangup"}}}

pytestmark = pytest.mark.django_db


def queue(number: str = "13800001111", **kw: object) -> OutboundCall:
    kw.setdefault("now", NOON)
    return calls.do_queue_call(number, Purpose.TEST, OutboundCall.Mode.IVR, flow=FLOW, **kw)  # type: ignore[arg-type]


def test_a_queued_call_is_claimed_once() -> None:
    call = queue()
    job = calls.claim_call("gw-a", NOON)
    assert job is not None and job.id == call.pk and job.number == "13800001111"
    assert job.attempt == 1 and job.flow == FLOW
    assert calls.claim_call("gw-b", NOON) is None
    call.refresh_from_db()
    assert call.state == OutboundCall.State.DIALLING and call.gateway == "gw-a"


def test_queueing_checks_its_input() -> None:
    from hotline.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        calls.do_queue_call("12", Purpose.TEST, OutboundCall.Mode.IVR, flow=FLOW)
    with pytest.raises(InvalidInput):
        calls.do_queue_call("13800001111", Purpose.TEST, OutboundCall.Mode.AGENT)
    with pytest.raises(InvalidInput):
        calls.do_queue_call("13800001111", Purpose.TEST, OutboundCall.Mode.IVR)


def test_do_not_call_blocks_at_queue_and_at_claim() -> None:
    calls.do_block_number(None, "13800002222", "asked", now=NOON)
    assert queue("13800002222").state == OutboundCall.State.BLOCKED
    later = queue("13800003333")
    calls.do_block_number(None, "13800003333", now=NOON)
    assert calls.claim_call("gw", NOON) is None
    later.refresh_from_db()
    assert later.state == OutboundCall.State.BLOCKED


def test_quiet_hours_move_the_first_try_to_the_morning() -> None:
    night = dt.datetime(2026, 12, 3, 22, 30, tzinfo=TZ)
    call = queue(now=night)
    assert call.next_try_at == dt.datetime(2026, 12, 4, 8, 0, tzinfo=TZ)
    assert calls.claim_call("gw", night + dt.timedelta(hours=1)) is None
    assert calls.claim_call("gw", call.next_try_at) is not None


def test_busy_is_tried_again_then_given_up_at_the_limit() -> None:
    call = queue(max_attempts=2)
    job = calls.claim_call("gw", NOON)
    assert job is not None
    calls.do_finish_attempt(job.id, Outcome.BUSY, sip_status=486, now=NOON)
    call.refresh_from_db()
    assert call.state == OutboundCall.State.QUEUED and call.attempts == 1
    assert call.next_try_at == NOON + dt.timedelta(minutes=10)
    assert calls.claim_call("gw", NOON + dt.timedelta(minutes=5)) is None
    job = calls.claim_call("gw", NOON + dt.timedelta(minutes=10))
    assert job is not None and job.attempt == 2
    calls.do_finish_attempt(job.id, Outcome.BUSY, sip_status=486,
                            now=NOON + dt.timedelta(minutes=11))
    call.refresh_from_db()
    assert call.state == OutboundCall.State.DONE and call.outcome == Outcome.BUSY
    assert list(CallAttempt.objects.filter(call=call).values_list("sip_status", flat=True)) == [
        486, 486]


def test_the_daily_cap_counts_every_call_to_the_number() -> None:
    for _ in range(3):
        queue(max_attempts=1)
        job = calls.claim_call("gw", NOON)
        assert job is not None
        calls.do_finish_attempt(job.id, Outcome.NO_ANSWER, now=NOON)
    fourth = queue()
    assert calls.claim_call("gw", NOON) is None
    fourth.refresh_from_db()
    assert fourth.next_try_at == dt.datetime(2026, 12, 4, 8, 0, tzinfo=TZ)


def test_a_dead_gateways_call_is_recovered_and_its_late_report_ignored() -> None:
    call = queue()
    job = calls.claim_call("gw-dead", NOON)
    assert job is not None
    assert calls.do_recover_calls(NOON + calls.STUCK_AFTER + dt.timedelta(seconds=1)) == 1
    call.refresh_from_db()
    assert call.state == OutboundCall.State.QUEUED
    calls.do_finish_attempt(job.id, Outcome.ANSWERED, now=NOON)
    call.refresh_from_db()
    assert call.state == OutboundCall.State.QUEUED and call.attempts == 0


def test_the_owner_is_told_once(monkeypatch: pytest.MonkeyPatch) -> None:
    told: list[int] = []
    monkeypatch.setitem(calls.FINISHERS, Purpose.TEST, "tests.outreach.test_calls.remember")
    monkeypatch.setattr("tests.outreach.test_calls.TOLD", told)
    call = queue(max_attempts=1)
    job = calls.claim_call("gw", NOON)
    assert job is not None
    calls.do_finish_attempt(job.id, Outcome.ANSWERED, result={"vars": {"resolved": "1"}},
                            now=NOON)  # on_commit does not run inside the test transaction
    assert calls.do_tell_owners() == 1
    assert calls.do_tell_owners() == 0
    assert told == [call.pk]
    call.refresh_from_db()
    assert call.result == {"vars": {"resolved": "1"}} and call.handled


TOLD: list[int] = []


def remember(call: OutboundCall) -> None:
    TOLD.append(call.pk)
