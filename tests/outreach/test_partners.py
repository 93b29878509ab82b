"""Partners (96180): hand-over with its history entry and SMS, ratings, three dissatisfied
ratings suspend automatically (and the count restarts at reinstatement), a suspended partner
takes no new order, reporters never reach a partner."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connections
from django.test import override_settings

from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.directory.models import OrderType
from hotline.intake.sms.outbound import LOG_OUTBOX
from hotline.orders.history import verify_order
from hotline.orders.models import Order, OrderEvent
from hotline.outreach import partners
from hotline.outreach.models_partners import (
    Partner,
    PartnerAssignment,
    PartnerReview,
    PartnerState,
    RatingSource,
)
from tests.api.conftest import new_order

if TYPE_CHECKING:
    from tests.conftest import City


@pytest.fixture(autouse=True)
def _empty_outbox() -> None:
    LOG_OUTBOX.clear()


def partner(name: str = "安心家政服务公司", **kw: Any) -> Partner:
    return partners.do_register_partner(None, name=name, services="保洁、家电维修",
                                        phone=kw.pop("phone", "13900009999"), **kw)


def handed(city: City, p: Partner, **order_kw: Any) -> PartnerAssignment:
    return partners.do_assign(city.agent, new_order(city, **order_kw), p, note="上门维修")


def actions(order: Order) -> list[str]:
    return list(OrderEvent.objects.filter(order=order).order_by("seq")
                .values_list("action", flat=True))


def test_handing_over_records_the_history_and_tells_the_partner(
        city: City, django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    p = partner()
    with django_capture_on_commit_callbacks(execute=True):
        assignment = handed(city, p)
    order = assignment.order
    assert actions(order)[-1] == "partner_assign"
    event = OrderEvent.objects.filter(order=order).order_by("-seq").first()
    assert event is not None and event.data["partner"] == p.name
    assert event.get_action_display() in ("Assigned to a partner", "已交由服务商")
    assert verify_order(order) == []  # the chain holds and the state is unchanged
    (sms,) = [s for s in LOG_OUTBOX if s.phone == p.phone]
    assert order.number in sms.text and order.citizen.phone in sms.text


def test_a_confidential_citizen_never_reaches_the_partner_and_reports_are_not_handed_over(
        city: City, django_capture_on_commit_callbacks: Callable[..., Any]) -> None:
    p = partner()
    with django_capture_on_commit_callbacks(execute=True):
        assignment = handed(city, p, confidential=True)
    (sms,) = [s for s in LOG_OUTBOX if s.phone == p.phone]
    assert assignment.order.citizen.phone not in sms.text
    with pytest.raises(InvalidInput):
        handed(city, p, type=OrderType.REPORT)


def test_only_the_centre_hands_over_and_only_once_per_partner(city: City) -> None:
    p = partner()
    order = new_order(city)
    with pytest.raises(Forbidden):
        partners.do_assign(city.handler, order, p)
    partners.do_assign(city.agent, order, p)
    with pytest.raises(Conflict):
        partners.do_assign(city.monitor, order, p)


def test_three_dissatisfied_ratings_suspend_the_partner_automatically(city: City) -> None:
    p = partner()
    handed_over = [handed(city, p) for _ in range(5)]
    partners.do_rate(handed_over[0], "unsatisfied", source=RatingSource.PORTAL)
    partners.do_rate(handed_over[1], "satisfied", source=RatingSource.PORTAL)
    partners.do_rate(handed_over[2], "unsatisfied", source=RatingSource.CALLBACK)
    p.refresh_from_db()
    assert p.state == PartnerState.ACTIVE
    partners.do_rate(handed_over[3], "unsatisfied", source=RatingSource.STAFF, actor=city.agent)
    p.refresh_from_db()
    assert p.state == PartnerState.SUSPENDED
    (review,) = PartnerReview.objects.filter(partner=p)
    assert review.automatic and review.actor is None and "3" in review.reason
    assert actions(handed_over[3].order)[-2:] == ["partner_rate", "partner_suspend"]
    assert actions(handed_over[0].order)[-1] == "partner_rate"
    assert all(verify_order(a.order) == [] for a in handed_over)
    # Suspended: no new order; its rating of an order handed over before still counts.
    with pytest.raises(Conflict):
        handed(city, p)
    partners.do_rate(handed_over[4], "unsatisfied", source=RatingSource.PORTAL)
    assert PartnerReview.objects.filter(partner=p).count() == 1  # suspended once


def test_reinstatement_needs_a_reason_and_restarts_the_count(city: City) -> None:
    p = partner()
    handed_over = [handed(city, p) for _ in range(5)]
    for assignment in handed_over[:3]:
        partners.do_rate(assignment, "unsatisfied", source=RatingSource.PORTAL)
    with pytest.raises(Forbidden):
        partners.do_reinstate(city.agent, p, "整改完成")
    with pytest.raises(InvalidInput):
        partners.do_reinstate(city.monitor, p, " ")
    review = partners.do_reinstate(city.monitor, p, "整改完成，复核通过")
    assert review.actor == city.monitor and review.to_state == PartnerState.ACTIVE
    p.refresh_from_db()
    assert p.state == PartnerState.ACTIVE and partners.dissatisfied_count(p) == 0
    with pytest.raises(Conflict):
        partners.do_reinstate(city.monitor, p, "again")
    partners.do_rate(handed_over[3], "unsatisfied", source=RatingSource.PORTAL)
    p.refresh_from_db()
    assert p.state == PartnerState.ACTIVE  # one since the reinstatement
    assert handed(city, p).partner == p


@override_settings(HOTLINE_PARTNER_SUSPEND_AFTER=1)
def test_the_threshold_is_a_setting(city: City) -> None:
    p = partner()
    partners.do_rate(handed(city, p), "unsatisfied", source=RatingSource.PORTAL)
    p.refresh_from_db()
    assert p.state == PartnerState.SUSPENDED


def test_one_rating_per_hand_over_and_valid_values_only(city: City) -> None:
    assignment = handed(city, partner())
    with pytest.raises(InvalidInput):
        partners.do_rate(assignment, "great", source=RatingSource.PORTAL)
    with pytest.raises(InvalidInput):
        partners.do_rate(assignment, "satisfied", source=RatingSource.STAFF)
    with pytest.raises(Forbidden):
        partners.do_rate(assignment, "satisfied", source=RatingSource.STAFF, actor=city.handler)
    partners.do_rate(assignment, "basic", source=RatingSource.PORTAL)
    with pytest.raises(Conflict):
        partners.do_rate(assignment, "unsatisfied", source=RatingSource.PORTAL)


def test_manual_suspension_and_the_rating_link(city: City) -> None:
    p = partner()
    assignment = handed(city, p)
    token = partners.rating_token(assignment)
    assert partners.assignment_for_token(token) == assignment
    with pytest.raises(NotFound):
        partners.assignment_for_token(token[:-2] + "xx")
    with pytest.raises(Forbidden):
        partners.do_suspend(city.agent, p, "投诉多")
    partners.do_suspend(city.admin, p, "投诉多，暂停复核")
    with pytest.raises(Conflict):
        partners.do_suspend(city.admin, p, "again")
    assert not PartnerReview.objects.get(partner=p).automatic


def test_partners_serving_the_orders_category_come_first(city: City) -> None:
    plumber = partner("管道疏通公司", phone="13900001111", categories=[city.cat_water])
    cleaner = partner("保洁公司", phone="13900002222")
    order = new_order(city, category=city.cat_outage.code)  # 停水, under 供水
    assert partners.partners_for(order) == [plumber, cleaner]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_ratings_count_every_one_and_suspend_once(city: City) -> None:
    p = partner()
    handed_over = [handed(city, p) for _ in range(4)]
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def rate(assignment: PartnerAssignment) -> None:
        try:
            barrier.wait(timeout=30)
            partners.do_rate(assignment, "unsatisfied", source=RatingSource.PORTAL)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rate, args=(a,)) for a in handed_over]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    p.refresh_from_db()
    assert p.state == PartnerState.SUSPENDED
    assert PartnerReview.objects.filter(partner=p).count() == 1
    assert OrderEvent.objects.filter(action="partner_suspend").count() == 1
