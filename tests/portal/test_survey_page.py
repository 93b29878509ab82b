"""The survey page the SMS or email links to: public, the token is the proof; the answer goes
through the lifecycle; bad input is a 400 with the form, a second answer a 409, an unknown
token a 404; a report's page never shows its answer."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hotline.orders.lifecycle import State
from hotline.orders.models import Order
from hotline.orders.services import NewOrder, do_action, do_create_order
from hotline.outreach import surveys
from hotline.outreach.models import Survey, SurveyPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _log_sms(settings: Any) -> None:
    settings.HOTLINE_SMS_PROVIDER = "log"
    settings.HOTLINE_OUTREACH_QUIET_START = settings.HOTLINE_OUTREACH_QUIET_END  # any hour


def surveyed(city: Any, **over: Any) -> tuple[Order, Survey]:
    SurveyPolicy.objects.get_or_create(order_type="", defaults={"methods": "portal"})
    fields: dict[str, Any] = {"type": "complaint", "channel": "phone", "title": "停水",
                              "text": "东街小区停水", "citizen_phone": "13800001111",
                              "district": "gulou", "category": "100101"}
    fields.update(over)
    order = do_create_order(city.agent, NewOrder(**fields))[0]
    do_action(city.agent, order.number, "dispatch", {"unit": "water", "co_units": []})
    do_action(city.handler, order.number, "sign")
    do_action(city.handler, order.number, "reply", {"reply": "已修复爆管，恢复供水"})
    do_action(city.agent, order.number, "approve_reply")
    survey = surveys.start_survey(Order.objects.get(pk=order.pk))
    assert survey is not None and survey.state == "asking"
    return order, survey


def test_the_citizen_rates_on_the_page_and_cannot_rate_twice(city: Any) -> None:
    order, survey = surveyed(city)
    url = f"/citizen/survey/{survey.token}/"
    client = Client()
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert order.number in page.content.decode() and "已修复爆管" in page.content.decode()
    bad = client.post(url, {"resolved": "maybe", "satisfaction": "basic"})
    assert bad.status_code == 400 and b"error-summary" in bad.content
    done = client.post(url, {"resolved": "no", "satisfaction": "basic", "words": "水压仍然低"})
    assert done.status_code == 302
    order.refresh_from_db()
    survey.refresh_from_db()
    assert (order.state, order.resolved, order.satisfaction) == (State.HANDLING, False, "basic")
    assert (survey.state, survey.answered_by, survey.comment) == ("answered", "web", "水压仍然低")
    assert b"survey-done" in client.get(url).content
    assert client.post(url, {"resolved": "yes", "satisfaction": "satisfied"}).status_code == 409
    order.refresh_from_db()
    assert order.reopen_count == 1


def test_an_unknown_token_is_not_found(city: Any) -> None:
    assert Client().get("/citizen/survey/nothing-here/").status_code == 404
    assert Client().post("/citizen/survey/nothing-here/", {}).status_code == 404


def test_a_reports_page_shows_no_answer(city: Any) -> None:
    _order, survey = surveyed(city, type="report", title="举报", text="某单位违规收费")
    page = Client().get(f"/citizen/survey/{survey.token}/")
    assert page.status_code == 200 and "已修复爆管" not in page.content.decode()
