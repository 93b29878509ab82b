"""Partner pages: the registry, handing an order over, recording a rating, the citizen's
rating link, and the centre's review (suspend, reinstate with a reason)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.test import Client
from django.urls import reverse

from hotline.orders.models import OrderEvent
from hotline.outreach import partners
from hotline.outreach.models_partners import (
    Partner,
    PartnerAssignment,
    PartnerState,
    RatingSource,
)
from tests.api.conftest import dispatched_order, new_order

if TYPE_CHECKING:
    from hotline.directory.models import User
    from tests.conftest import City


def partner(name: str = "安心家政服务公司") -> Partner:
    return partners.do_register_partner(None, name=name, services="保洁、家电维修",
                                        phone="13900009999")


def test_the_registry_lists_partners_for_the_centre_only(
        login: Callable[[User], Client], city: City) -> None:
    p = partner()
    page = login(city.agent).get(reverse("partners:list")).content.decode()
    assert p.name in page and f'id="partner-{p.pk}"' in page
    assert login(city.handler).get(reverse("partners:list")).status_code == 403


def test_an_agent_hands_an_order_over(login: Callable[[User], Client], city: City) -> None:
    p = partner()
    order = new_order(city)
    client = login(city.agent)
    form = client.get(reverse("partners:assign"), {"number": order.number})
    assert p.name in form.content.decode()
    r = client.post(reverse("partners:assign"), {"number": order.number, "partner": p.pk,
                                                 "note": "尽快上门"})
    assert r.status_code == 302
    assert PartnerAssignment.objects.filter(order=order, partner=p).exists()
    assert OrderEvent.objects.filter(order=order, action="partner_assign").exists()
    again = client.post(reverse("partners:assign"), {"number": order.number, "partner": p.pk})
    assert again.status_code == 409 and "already" in again.content.decode()
    missing = client.post(reverse("partners:assign"), {"number": "00000000", "partner": p.pk})
    assert missing.status_code == 400


def test_the_citizen_rates_through_the_link_once(client: Client, city: City) -> None:
    p = partner()
    assignment = partners.do_assign(city.agent, new_order(city), p)
    url = reverse("partners:rate", args=[partners.rating_token(assignment)])
    page = client.get(url)
    assert page.status_code == 200 and p.name in page.content.decode()
    assert client.post(url, {"satisfaction": "nonsense"}).status_code == 400
    r = client.post(url, {"satisfaction": "unsatisfied", "comment": "迟到两小时"})
    assert r.status_code == 200 and 'id="rated"' in r.content.decode()
    assert assignment.order.citizen.phone not in r.content.decode()
    assert client.get(reverse("partners:rate", args=["forged"])).status_code == 404


def test_staff_record_ratings_and_the_third_dissatisfied_one_suspends(
        login: Callable[[User], Client], city: City) -> None:
    p = partner()
    client = login(city.agent)
    for _ in range(3):
        assignment = partners.do_assign(city.agent, new_order(city), p)
        r = client.post(reverse("partners:record_rating", args=[assignment.pk]),
                        {"satisfaction": "unsatisfied"})
        assert r.status_code == 302
    p.refresh_from_db()
    assert p.state == PartnerState.SUSPENDED
    page = client.get(reverse("partners:detail", args=[p.pk])).content.decode()
    assert "Suspended" in page and "Automatic" in page
    # An agent may not review: the review form is not theirs.
    assert client.post(reverse("partners:detail", args=[p.pk]),
                       {"reason": "x"}).status_code == 404
    monitor = login(city.monitor)
    assert monitor.post(reverse("partners:detail", args=[p.pk]), {"reason": ""}).status_code == 400
    r = monitor.post(reverse("partners:detail", args=[p.pk]), {"reason": "整改完成"})
    assert r.status_code == 302
    p.refresh_from_db()
    assert p.state == PartnerState.ACTIVE
    assert client.get(reverse("partners:detail", args=[999999])).status_code == 404


def test_the_rating_link_goes_by_sms_and_the_order_page_shows_the_entries(
        login: Callable[[User], Client], city: City) -> None:
    from hotline.intake.models import SmsOptOut
    from hotline.intake.sms.outbound import LOG_OUTBOX

    LOG_OUTBOX.clear()
    p = partner()
    assignment = partners.do_assign(city.agent, new_order(city), p)
    client = login(city.agent)
    url = reverse("partners:record_rating", args=[assignment.pk])
    assert client.post(url, {"send_link": "1"}).status_code == 302
    (sms,) = [s for s in LOG_OUTBOX if s.purpose == "rating"]
    assert sms.phone == assignment.order.citizen.phone and "/partners/rate/" in sms.text
    assert sms.text.endswith("回复TD退订")  # how to stop, as every notice says
    SmsOptOut.objects.create(phone=sms.phone, at=assignment.assigned_at)
    client.post(url, {"send_link": "1"})
    assert len([s for s in LOG_OUTBOX if s.purpose == "rating"]) == 1  # opted out: not sent
    page = client.get(reverse("portal:order_detail", args=[assignment.order.number]))
    assert page.status_code == 200 and "Assigned to a partner" in page.content.decode()
    # The handling department sees the entries too.
    handed = partners.do_assign(city.agent, dispatched_order(city), p)
    partners.do_rate(handed, "satisfied", source=RatingSource.PORTAL)
    dept = login(city.handler).get(reverse("portal:order_detail", args=[handed.order.number]))
    assert dept.status_code == 200
    assert "Partner&#x27;s service rated" in dept.content.decode() \
        or "Partner's service rated" in dept.content.decode()
