"""IVR visits as rows: what the gateway hands over is stored in order, replaces a previous
write for the same call, and is what the per-node counts and a call's path are read from."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hotline.contactcentre.ivr import (
    Visit,
    do_record_ivr_visits,
    node_visit_counts,
    trail_text,
    visits_for_contact,
)
from hotline.contactcentre.ivr_outcome import VisitOutcome
from hotline.contactcentre.models import IvrOutcome, IvrVisit
from hotline.orders.contacts import NewContact, do_record_contact
from hotline.orders.models import Channel, Contact

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def contact(city: Any, phone: str = "13800138000") -> Contact:
    return do_record_contact(city.agent, NewContact(channel=Channel.PHONE, summary="call",
                                                    citizen_phone=phone))


def visit(node: str, seconds: float, outcome: VisitOutcome = VisitOutcome.CHOSEN,
          **kwargs: Any) -> Visit:
    return Visit(node=node, entered_at=T0 + dt.timedelta(seconds=seconds), outcome=outcome,
                 duration_s=kwargs.pop("duration_s", 2.0), **kwargs)


def test_the_outcomes_are_the_engines() -> None:
    assert {o.value for o in IvrOutcome} == {o.value for o in VisitOutcome}


def test_visits_are_stored_in_order_and_read_back(city: Any) -> None:
    first = contact(city)
    do_record_ivr_visits(first.pk, "call-1@test", [
        visit("welcome", 0, digits="72", retries=2),
        visit("self_service", 5, VisitOutcome.OPERATOR, digits="0"),
        visit("human", 7, VisitOutcome.TRANSFERRED, duration_s=-0.001),  # clock jitter
    ])
    rows = visits_for_contact(first)
    assert [(r.position, r.node, r.digits, r.retries, r.outcome) for r in rows] == [
        (1, "welcome", "72", 2, "chosen"), (2, "self_service", "0", 0, "operator"),
        (3, "human", "", 0, "transferred")]
    assert rows[2].duration_s == 0.0
    assert rows[1].entered_at == T0 + dt.timedelta(seconds=5)
    assert visits_for_contact(first.pk) == rows
    assert trail_text(rows) == "welcome > self_service > human"
    assert first.ivr_visits.count() == 3


def test_a_second_write_for_the_same_call_replaces_the_first(city: Any) -> None:
    first = contact(city)
    do_record_ivr_visits(first.pk, "call-1@test", [visit("welcome", 0), visit("human", 3)])
    do_record_ivr_visits(first.pk, "call-1@test", [visit("welcome", 0)])
    assert [r.node for r in visits_for_contact(first)] == ["welcome"]


def test_long_keys_are_cut_to_the_column(city: Any) -> None:
    first = contact(city)
    do_record_ivr_visits(first.pk, "c" * 300, [visit("query_enter", 0, digits="1" * 200)])
    (row,) = visits_for_contact(first)
    assert len(row.digits) == IvrVisit._meta.get_field("digits").max_length
    assert len(row.call_ref) == 128


def test_counts_per_node_come_from_the_rows(city: Any) -> None:
    assert node_visit_counts() == {}
    one, two = contact(city), contact(city, "13900001111")
    do_record_ivr_visits(one.pk, "call-1", [visit("welcome", 0), visit("self_service", 3),
                                            visit("welcome", 6)])
    do_record_ivr_visits(two.pk, "call-2", [visit("welcome", 60), visit("human", 64)])
    assert node_visit_counts() == {"welcome": 3, "self_service": 1, "human": 1}
    assert node_visit_counts(since=T0 + dt.timedelta(seconds=5)) == {"welcome": 2, "human": 1}
    # The contact's summary is for people; editing it changes no figure.
    Contact.objects.update(summary="IVR: nonsense > nodes")
    assert node_visit_counts() == {"welcome": 3, "self_service": 1, "human": 1}
