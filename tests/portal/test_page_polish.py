"""Issue 15 item 8's polish: the knowledge base in the navigation, the favicon, messages that
went untranslated, and the call-back form (nothing preselected; 联系不上 with its reason)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from django.contrib.staticfiles import finders
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hotline.core.errors import InvalidInput
from hotline.directory.models import User
from hotline.insight import services as insight_services
from hotline.orders.history import append_event
from hotline.orders.models import Order, OrderEvent
from hotline.orders.services import do_action
from hotline.portal.forms import CallbackForm
from hotline.portal.templatetags.portal_tags import actor_label

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db


def test_the_navigation_links_the_knowledge_base_and_the_favicon(
        city: City, login: Callable[[User], Client]) -> None:
    for user in (city.agent, city.handler, city.leader):
        html = login(user).get(reverse("portal:order_list")).content.decode()
        assert f'href="{reverse("knowledge:search")}" id="nav-knowledge"' in html
        assert 'rel="icon" type="image/svg+xml" href="/static/web/favicon.svg"' in html
        assert html.count("<!DOCTYPE html>") == 1
    svg = finders.find("web/favicon.svg")
    assert svg is not None
    with open(svg, encoding="utf-8") as handle:
        assert handle.read().lstrip().startswith("<svg")


def test_the_date_range_errors_are_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each message goes through gettext when raised (the Chinese is in the catalogue).
    monkeypatch.setattr(insight_services, "_", lambda text: f"«{text}»")
    today = timezone.localdate()
    with pytest.raises(InvalidInput) as error:
        insight_services.window_for(date_from=today - dt.timedelta(days=200), date_to=today)
    assert error.value.message == "«A date range covers at most 92 days.»"
    with pytest.raises(InvalidInput) as error:
        insight_services.window_for(date_from=today, date_to=today - dt.timedelta(days=1))
    assert error.value.message.startswith("«")


def test_the_system_actor_is_shown_in_the_readers_language(
        city: City, login: Callable[[User], Client], dispatched: Order) -> None:
    assert actor_label(OrderEvent(actor_name="system")) == "System"
    assert actor_label(OrderEvent(actor_name="系统")) == "System"
    assert actor_label(OrderEvent(actor_name="王坐席")) == "王坐席"
    with transaction.atomic():  # the history is append-only: a sweep's event, as it writes it
        append_event(Order.objects.select_for_update().get(pk=dispatched.pk), action="remind",
                     from_state="dispatched", to_state="dispatched", actor=None,
                     now=timezone.now())
    html = login(city.agent).get(reverse("portal:order_detail",
                                         args=[dispatched.number])).content.decode()
    assert "· System" in html and "· system" not in html


def test_the_callback_form_preselects_nothing() -> None:
    html = str(CallbackForm(prefix="callback"))
    assert "selected" not in html.replace('<option value="" selected>', "")
    assert 'value="" selected' in html  # the empty satisfaction
    assert "checked" not in html
    assert 'name="callback-unreachable"' in html
    form = CallbackForm({"callback-note": "x"}, prefix="callback")
    assert not form.is_valid()
    assert set(form.errors) == {"resolved", "satisfaction"}


@pytest.fixture
def awaiting_callback(city: City, dispatched: Order) -> Order:
    do_action(city.handler, dispatched.number, "sign")
    do_action(city.handler, dispatched.number, "reply", {"reply": "已恢复供水"})
    return do_action(city.agent, dispatched.number, "approve_reply")


def test_unreachable_closes_the_order_with_the_reason(
        city: City, login: Callable[[User], Client], awaiting_callback: Order) -> None:
    client = login(city.agent)
    page = client.get(reverse("portal:order_detail", args=[awaiting_callback.number]))
    html = page.content.decode()
    assert 'name="callback-unreachable"' in html and "callback_attempt" not in html
    url = reverse("portal:order_action", args=[awaiting_callback.number, "callback"])
    refused = client.post(url, {"callback-unreachable": "on"})
    assert refused.status_code == 422
    assert "Say why the citizen could not be reached" in refused.content.decode()
    done = client.post(url, {"callback-unreachable": "on",
                             "callback-note": "三天内拨打三次均无人接听"})
    assert done.status_code == 302
    order = Order.objects.get(pk=awaiting_callback.pk)
    assert (order.state, order.resolved, order.satisfaction) == ("closed", None, "")
    event = order.events.order_by("-seq").first()
    assert event is not None and event.data.get("unreachable") is True
    assert event.note == "三天内拨打三次均无人接听"


def test_an_answered_callback_needs_both_answers(
        city: City, login: Callable[[User], Client], awaiting_callback: Order) -> None:
    client = login(city.agent)
    url = reverse("portal:order_action", args=[awaiting_callback.number, "callback"])
    response = client.post(url, {"callback-resolved": "yes"})
    assert response.status_code == 422
    assert "Choose the citizen&#x27;s satisfaction" in response.content.decode()
    assert Order.objects.get(pk=awaiting_callback.pk).state == "callback"
    client.post(url, {"callback-resolved": "no", "callback-satisfaction": "unsatisfied"})
    order = Order.objects.get(pk=awaiting_callback.pk)
    assert (order.state, order.resolved, order.satisfaction) == ("closed", False, "unsatisfied")
