"""The call rollups from calls made through the contact centre's own services at known times:
every figure counted once, late changes (an answer, an end, a wrap-up after the first refresh)
counted at the next refresh, a refresh repeated or a rebuild giving the same rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Sum

from hotline.contactcentre import services
from hotline.contactcentre.ivr import Visit, do_record_ivr_visits
from hotline.contactcentre.ivr_outcome import VisitOutcome
from hotline.insight import call_rollups
from hotline.insight.models import (
    AgentCallDay,
    AgentStateDay,
    CallHour,
    IvrNodeDay,
    OutboundDay,
    SmsDay,
    StateHour,
)
from hotline.intake.models import SmsMessage
from hotline.orders.models import Channel, Contact
from hotline.outreach.models import CallAttempt, OutboundCall
from tests.contactcentre.conftest import T0, at
from tests.insight.call_fixtures import floor

pytestmark = pytest.mark.django_db


def hour_row(desk: Any) -> CallHour:
    return CallHour.objects.get(hour=floor(T0), queue_id=desk.general.pk)


def test_a_refresh_counts_every_call_once_with_its_times(floor_day: Any) -> None:
    desk = floor_day
    call_rollups.refresh_call_rollups(at(300))  # c4 still talking
    row = hour_row(desk)
    assert (row.offered, row.answered, row.answered_fast, row.answered_in_target) == (4, 2, 1, 1)
    assert (row.abandoned, row.short_abandoned, row.overflowed) == (1, 1, 0)
    assert row.wait_sum_s == pytest.approx(40.0)
    assert (row.talked, row.talk_sum_s, row.hold_sum_s) == (1, pytest.approx(60.0),
                                                             pytest.approx(20.0))
    assert (row.wrapped, row.wrap_sum_s) == (1, pytest.approx(15.0))
    agent = AgentCallDay.objects.get(agent_id=desk.agent.pk)
    assert agent.day == dt.date(2026, 3, 2)  # 17:00 in the centre's time zone
    assert (agent.offered, agent.answered, agent.abandoned) == (2, 2, 0)


def test_late_changes_are_counted_at_the_next_refresh(floor_day: Any) -> None:
    desk = floor_day
    call_rollups.refresh_call_rollups(at(300))
    services.do_call_ended(desk.second, at(400))  # talked 170 s, after the first refresh
    services.do_expire_wrap_ups(at(415))
    done = call_rollups.refresh_call_rollups(at(500))
    row = hour_row(desk)
    assert (row.talked, row.talk_sum_s) == (2, pytest.approx(230.0))
    assert (row.wrapped, row.wrap_sum_s) == (2, pytest.approx(30.0))
    assert done.day_to == dt.date(2026, 3, 2)
    assert call_rollups.rolled_until() == at(500)


def test_refreshing_again_or_rebuilding_gives_the_same_rows(floor_day: Any) -> None:
    desk = floor_day
    services.do_call_ended(desk.second, at(400))
    services.do_expire_wrap_ups(at(415))

    def snapshot() -> list[tuple[Any, ...]]:
        return sorted(CallHour.objects.values_list(
            "hour", "queue_id", "offered", "answered", "abandoned", "talk_sum_s", "wrap_sum_s")) \
            + sorted(AgentStateDay.objects.values_list("day", "agent_id", "state", "seconds"))

    call_rollups.refresh_call_rollups(at(500))
    first = snapshot()
    call_rollups.refresh_call_rollups(at(500))
    assert snapshot() == first
    call_rollups.rebuild_call_rollups(at(500))
    assert snapshot() == first
    assert CallHour.objects.count() == 1


def test_agent_state_seconds_and_occupancy(floor_day: Any) -> None:
    desk = floor_day
    services.do_call_ended(desk.second, at(400))
    services.do_expire_wrap_ups(at(415))
    call_rollups.refresh_call_rollups(at(500))
    seconds = dict(AgentStateDay.objects.filter(agent_id=desk.agent.pk)
                   .values_list("state", "seconds"))
    assert seconds == {"idle": pytest.approx(12 + 110 + 85), "ringing": pytest.approx(8 + 25),
                       "talking": pytest.approx(60 + 170), "wrap_up": pytest.approx(30)}
    hours = dict(StateHour.objects.filter(hour=floor(T0)).values_list("state", "seconds"))
    assert hours == seconds


def test_state_time_is_cut_at_hour_boundaries(desk: Any) -> None:
    alice = desk.agent
    services.do_sign_in(alice, now=at(-600))  # 08:50
    services.do_set_state(alice, "ready", now=at(-600))
    services.do_set_state(alice, "not_ready", reason="meal", now=at(1200))  # 09:20
    call_rollups.refresh_call_rollups(at(1800))
    by_hour = dict(StateHour.objects.values("hour").annotate(s=Sum("seconds"))
                   .values_list("hour", "s").order_by())
    assert by_hour == {floor(T0) - dt.timedelta(hours=1): pytest.approx(600),
                       floor(T0): pytest.approx(1800)}
    rows = dict(AgentStateDay.objects.values_list("state", "seconds"))
    assert rows == {"idle": pytest.approx(1800), "busy": pytest.approx(600)}


def test_ivr_sms_and_outbound_days(desk: Any) -> None:
    contact = Contact.objects.create(channel=Channel.PHONE, occurred_at=at(0))
    do_record_ivr_visits(contact.pk, "ivr-1", [
        Visit("welcome", at(0), VisitOutcome.PASSED, 4.0),
        Visit("menu", at(4), VisitOutcome.CHOSEN, 6.5, digits="1"),
        Visit("menu", at(11), VisitOutcome.OPERATOR, 3.0, digits="0"),
    ])
    for status, parts in (("sent", 1), ("delivered", 2), ("failed", 1)):
        SmsMessage.objects.create(direction="out", phone="13800000000", text="x",
                                  provider="log", status=status, parts=parts, created_at=at(5))
    SmsMessage.objects.create(direction="in", phone="13800000001", text="y", provider="log",
                              status="received", created_at=at(6))
    call = OutboundCall.objects.create(number="13800000000", purpose="callback", mode="agent",
                                       next_try_at=at(0), created_by=desk.admin, created_at=at(0))
    for outcome, talk in (("answered", 42), ("busy", 0), ("no_answer", 0)):
        CallAttempt.objects.create(call=call, number=call.number, purpose="callback",
                                   started_at=at(10), ended_at=at(60), outcome=outcome,
                                   talk_seconds=talk)
    call_rollups.refresh_call_rollups(at(600))
    day = dt.date(2026, 3, 2)
    ivr = {(r.node, r.outcome): (r.visits, r.calls, r.duration_sum_s)
           for r in IvrNodeDay.objects.filter(day=day)}
    assert ivr == {("welcome", "passed"): (1, 1, 4.0), ("menu", "chosen"): (1, 1, 6.5),
                   ("menu", "operator"): (1, 1, 3.0)}
    sms = {(r.direction, r.status): (r.messages, r.parts) for r in SmsDay.objects.filter(day=day)}
    assert sms == {("out", "sent"): (1, 1), ("out", "delivered"): (1, 2),
                   ("out", "failed"): (1, 1), ("in", "received"): (1, 1)}
    outbound = {(r.purpose, r.outcome): (r.attempts, r.talk_sum_s)
                for r in OutboundDay.objects.filter(day=day)}
    assert outbound == {("callback", "answered"): (1, 42.0), ("callback", "busy"): (1, 0.0),
                        ("callback", "no_answer"): (1, 0.0)}


def test_an_old_day_is_left_alone_by_a_refresh(floor_day: Any) -> None:
    """Only the days a late change can reach are rewritten: a row of an old day stays."""
    desk = floor_day
    call_rollups.refresh_call_rollups(at(500))
    old = CallHour.objects.create(hour=floor(T0) - dt.timedelta(days=5), queue_id=desk.general.pk,
                                  offered=7)
    call_rollups.refresh_call_rollups(at(900))
    assert CallHour.objects.filter(pk=old.pk, offered=7).exists()
    call_rollups.rebuild_call_rollups(at(900))
    assert not CallHour.objects.filter(pk=old.pk).exists()  # no call behind it
