"""The screen pop (/desk/calls/<id>/pop/): who may see it, what it shows and in which order,
and how much a sub-centre's agent sees."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from hotline.contactcentre.models import QueuedCall
from hotline.contactcentre.services import do_call_answered, do_ring_timeout
from hotline.desk.pop import screen_pop
from hotline.orders.contacts import NewContact, do_record_contact
from hotline.orders.models import Order
from hotline.orders.services import NewOrder, do_action, do_create_order
from tests.desk import test_desk_views as views_fixtures
from tests.desk.test_desk_views import CALLER, as_user, ring

# The shared desk fixtures (pytest finds them as names of this module).
_english = views_fixtures._english
answered = views_fixtures.answered
offered = views_fixtures.offered
phones = views_fixtures.phones

pytestmark = pytest.mark.django_db


def pop_url(call: QueuedCall) -> str:
    return reverse("desk:call_pop", args=[call.pk])


def history_order(city: Any, title: str, days_ago: float, **extra: Any) -> Order:
    data: dict[str, Any] = dict(type="complaint", channel="phone", title=title, text=title + "，请处理。",
                citizen_phone=CALLER, district="gulou", category="100101")
    data.update(extra)
    order, _ = do_create_order(city.agent, NewOrder(**data),
                               now=timezone.now() - dt.timedelta(days=days_ago))
    return order


@pytest.fixture
def history(phones: Any) -> dict[str, Order]:
    """The caller's past: a closed order (the newest), two open ones, an email."""
    c = phones
    older_open = history_order(c, "路灯不亮", 3)
    newer_open = history_order(c, "楼上漏水", 2)
    closed = history_order(c, "咨询公积金", 1, type="consultation", category="")
    do_action(c.agent, closed.number, "answer", {"reply": "已告知办理流程"})
    # The satisfaction a call back recorded (set directly: the whole loop is tested elsewhere).
    Order.objects.filter(pk=closed.pk).update(satisfaction="unsatisfied")
    Order.objects.filter(pk=older_open.pk).update(satisfaction="satisfied")
    do_record_contact(c.system, NewContact(channel="email", citizen_phone=CALLER,
                                           summary="邮件反映噪声"))
    return {"older_open": older_open, "newer_open": newer_open, "closed": closed}


@pytest.mark.parametrize("who,status", [
    ("agent", 200), ("monitor", 200), ("bob", 403), ("sub_agent", 403), ("handler", 403),
    ("admin", 403), ("leader", 403),
])
def test_only_the_agent_of_the_call_or_a_monitor_sees_the_pop(offered: QueuedCall, phones: Any,
                                                              who: str, status: int) -> None:
    assert as_user(getattr(phones, who)).get(pop_url(offered)).status_code == status


def test_an_unknown_call_is_404(phones: Any) -> None:
    assert as_user(phones.agent).get(reverse("desk:call_pop", args=[999999])).status_code == 404


def test_a_call_that_rang_out_is_no_longer_the_agents(offered: QueuedCall, phones: Any) -> None:
    do_ring_timeout(offered.pk)
    assert as_user(phones.agent).get(pop_url(offered)).status_code == 403


def test_the_pop_shows_the_caller_tags_queue_and_wait(history: dict[str, Order],
                                                      phones: Any) -> None:
    call = ring(phones, phones.agent, name="刘大爷", tags=["elderly", "repeat"])
    html = as_user(phones.agent).get(pop_url(call)).content.decode()
    assert 'data-testid="screen-pop"' in html and f'data-call="{call.pk}"' in html
    assert '<span class="pop-number" id="pop-number" data-testid="pop-number">13900001111' in html
    assert "刘大爷" in html
    assert 'class="badge pop-tag vulnerable" data-tag="elderly">Elderly' in html
    assert 'class="badge pop-tag" data-tag="repeat">Repeat caller' in html
    assert "Vulnerable caller" in html
    assert "Queue: 综合" in html and 'data-testid="pop-wait"' in html
    assert "Open orders: 2" in html


def test_open_orders_come_first_then_closed_ones(history: dict[str, Order], phones: Any) -> None:
    call = ring(phones, phones.agent)
    html = as_user(phones.agent).get(pop_url(call)).content.decode()
    numbers = [part.split('"')[0] for part in html.split('data-number="')[1:]]
    assert numbers == [history["newer_open"].number, history["older_open"].number,
                       history["closed"].number]
    assert f'data-number="{history["closed"].number}" data-open="0"' in html
    # Satisfaction from the call backs, and the earlier contacts on every channel.
    assert 'data-satisfaction="unsatisfied"' in html and 'data-satisfaction="satisfied"' in html
    assert "邮件反映噪声" in html and "Email" in html


def test_the_current_call_is_not_among_the_earlier_contacts(history: dict[str, Order],
                                                            phones: Any) -> None:
    call = ring(phones, phones.agent)
    pop = screen_pop(phones.agent, call)
    assert call.contact_id not in [row.contact.pk for row in pop.contacts]
    assert len(pop.contacts) == 4  # three orders' contacts and the email
    assert not pop.history_limited and not pop.first_call


def test_a_first_time_caller_has_an_empty_history(phones: Any) -> None:
    call = ring(phones, phones.agent, caller="13700000000")
    html = as_user(phones.agent).get(pop_url(call)).content.decode()
    assert "No earlier contacts with the hotline." in html
    assert 'id="pop-orders"' not in html


def test_a_sub_centre_agent_sees_only_their_scope_and_no_confidential_orders(
        history: dict[str, Order], phones: Any) -> None:
    c = phones
    elsewhere = history_order(c, "台江区路面塌陷", 0.5, district="taijiang")
    secret = history_order(c, "举报违建", 0.4, type="report", category="")
    call = ring(c, c.sub_agent)
    html = as_user(c.sub_agent).get(pop_url(call)).content.decode()
    assert "Only the orders in your scope are shown." in html
    shown = {part.split('"')[0] for part in html.split('data-number="')[1:]}
    assert shown == {history["newer_open"].number, history["older_open"].number,
                     history["closed"].number}
    assert elsewhere.number not in html and secret.number not in html
    # The email is about no order in the agent's scope, so it is not shown either.
    assert "邮件反映噪声" not in html


def test_the_centre_sees_the_confidential_order_in_the_history(history: dict[str, Order],
                                                               phones: Any) -> None:
    secret = history_order(phones, "举报违建", 0.4, type="report", category="")
    call = ring(phones, phones.agent)
    assert secret.number in as_user(phones.agent).get(pop_url(call)).content.decode()


def test_the_monitor_sees_the_pop_of_a_talking_call(answered: QueuedCall, phones: Any) -> None:
    html = as_user(phones.monitor).get(pop_url(answered)).content.decode()
    assert "刘大爷" in html


def test_the_wait_is_the_time_to_answer_once_answered(offered: QueuedCall, phones: Any) -> None:
    call = do_call_answered(offered.pk, now=offered.queued_at + dt.timedelta(seconds=42))
    assert screen_pop(phones.agent, call).wait_s == pytest.approx(42)
