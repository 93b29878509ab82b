"""The desk page and its state buttons: who may open it, what it shows, state changes and their
errors as messages (never a 500), CSRF on POST.

The fixtures here (``ring``, ``answered`` and friends) are shared by the other desk page tests,
which import them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from hotline.contactcentre.models import AgentStatus, QueuedCall, SipExtension, State
from hotline.contactcentre.services import (
    do_call_answered,
    do_enqueue_call,
    do_route,
    do_set_state,
    do_sign_in,
)
from hotline.orders.contacts import NewContact, do_record_contact
from hotline.orders.models import Citizen

pytestmark = pytest.mark.django_db

CALLER = "13900001111"


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    # Assertions read the English msgids; one test checks the Chinese default.
    settings.LANGUAGE_CODE = "en"
    cache.clear()


@pytest.fixture
def phones(desk: Any) -> Any:
    desk.alice_ext = SipExtension.objects.create(number="8001", agent=desk.agent)
    desk.bob_ext = SipExtension.objects.create(number="8002", agent=desk.bob)
    desk.monica_ext = SipExtension.objects.create(number="8009", agent=desk.monitor)
    return desk


def as_user(user: Any, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def make_ready(user: Any) -> None:
    do_sign_in(user)
    do_set_state(user, "ready")


def ring(city: Any, agent: Any, *, caller: str = CALLER, name: str = "",
         tags: list[str] | None = None, gateway: str = "gw-1") -> QueuedCall:
    """A call with its contact (as the gateway records it) offered to ``agent``, who is the only
    ready agent."""
    if name or tags:
        Citizen.objects.update_or_create(phone=caller,
                                         defaults={"name": name, "tags": tags or []})
    contact = do_record_contact(city.system, NewContact(channel="phone", citizen_phone=caller,
                                                         summary="来电"))
    make_ready(agent)
    call = do_enqueue_call(city.general, call_ref=f"call-{contact.pk}", caller=caller,
                           gateway=gateway, contact_id=contact.pk)
    result = do_route()
    assert [o.agent for o in result.offers] == [agent.pk]
    call.refresh_from_db()
    return call


@pytest.fixture
def offered(phones: Any) -> QueuedCall:
    return ring(phones, phones.agent, name="刘大爷", tags=["elderly"])


@pytest.fixture
def answered(offered: QueuedCall) -> QueuedCall:
    return do_call_answered(offered.pk)


# --- who may open the desk --------------------------------------------------------------------

@pytest.mark.parametrize("who,status", [
    ("agent", 200), ("monitor", 200), ("sub_agent", 200), ("admin", 403), ("handler", 403),
    ("dept_admin", 403), ("leader", 403), ("auditor", 403),
])
def test_only_agents_and_monitors_open_the_desk(phones: Any, who: str, status: int) -> None:
    response = as_user(getattr(phones, who)).get(reverse("desk:desk"))
    assert response.status_code == status


def test_anonymous_users_are_sent_to_log_in(phones: Any) -> None:
    response = Client().get(reverse("desk:desk"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert Client().get(reverse("desk:status")).status_code == 302


@pytest.mark.parametrize("name", ["status", "callbacks", "directory"])
def test_every_desk_partial_refuses_departments(phones: Any, name: str) -> None:
    assert as_user(phones.handler).get(reverse(f"desk:{name}")).status_code == 403


def test_the_navigation_links_the_desk_for_agents_and_monitors_only(phones: Any) -> None:
    for user, shown in ((phones.agent, True), (phones.monitor, True), (phones.handler, False),
                        (phones.admin, False)):
        page = as_user(user).get(reverse("portal:order_list")).content.decode()
        assert ('id="nav-desk"' in page) is shown, user.username


def test_the_page_shows_the_state_buttons_and_stable_ids(phones: Any) -> None:
    page = as_user(phones.agent).get(reverse("desk:desk")).content.decode()
    for testid in ("desk-state", "btn-sign-in", "btn-ready", "btn-not-ready", "desk-reason",
                   "btn-sign-out", "desk-wrapup", "wrapup-countdown", "btn-ready-now",
                   "call-bar", "btn-hold", "btn-hangup", "transfer-search",
                   "btn-emergency-110", "btn-emergency-122", "help-overlay", "callbacks"):
        assert f'data-testid="{testid}"' in page, testid
    assert 'data-state="signed_out"' in page
    assert "Extension number 8001" in page
    # The reasons an agent may choose; the system's "missed call" is not one of them.
    assert 'value="meal"' in page and 'value="no_answer"' not in page
    config = json.loads(page.split('id="desk-config" type="application/json">')[1]
                        .split("</script>")[0])
    assert config["allowed"]["talking"] == ["hang_up"]
    assert "ready" in config["allowed"]["wrap_up"]


def test_the_page_is_in_chinese_by_default(phones: Any, settings: Any) -> None:
    settings.LANGUAGE_CODE = "zh-hans"
    page = as_user(phones.agent).get(reverse("desk:desk")).content.decode()
    for text in ("坐席工作台", "签入", "示闲", "示忙", "签出", "我的待回电", "分机号 8001", "保持", "挂断"):
        assert text in page, text


# --- state buttons ----------------------------------------------------------------------------

def post_state(client: Client, action: str, reason: str = "") -> Any:
    return client.post(reverse("desk:state"), {"action": action, "reason": reason},
                       HTTP_ACCEPT="application/json")


def test_sign_in_ready_not_ready_and_sign_out(phones: Any) -> None:
    client = as_user(phones.agent)
    answer = post_state(client, "sign_in")
    assert answer.status_code == 200 and answer.json()["state"] == "signed_in"
    assert answer.json()["extension"] == "8001"
    assert post_state(client, "ready").json()["state"] == "idle"
    busy = post_state(client, "not_ready", "meal").json()
    assert (busy["state"], busy["reason"]) == ("busy", "meal")
    assert post_state(client, "sign_out").json()["state"] == "signed_out"
    states = list(AgentStatus.objects.filter(pk=phones.agent.pk).values_list("state", flat=True))
    assert states == ["signed_out"]


def test_not_ready_needs_a_reason_an_agent_may_choose(phones: Any) -> None:
    client = as_user(phones.agent)
    post_state(client, "sign_in")
    missing = post_state(client, "not_ready")
    assert missing.status_code == 422 and "reason" in missing.json()["error"]
    system_only = post_state(client, "not_ready", "no_answer")
    assert system_only.status_code == 422
    assert post_state(client, "dance").status_code == 422
    assert AgentStatus.objects.get(pk=phones.agent.pk).state == State.SIGNED_IN


def test_signing_out_during_a_call_is_a_clear_409(answered: QueuedCall, phones: Any) -> None:
    answer = post_state(as_user(phones.agent), "sign_out")
    assert answer.status_code == 409
    assert answer.json()["error"] == "“Sign out” is not possible while you are “On a call”."
    assert AgentStatus.objects.get(pk=phones.agent.pk).state == State.TALKING


def test_the_error_is_in_chinese_for_a_chinese_desk(answered: QueuedCall, phones: Any,
                                                   settings: Any) -> None:
    settings.LANGUAGE_CODE = "zh-hans"
    answer = post_state(as_user(phones.agent), "sign_out")
    assert answer.status_code == 409 and "签出" in answer.json()["error"]


def test_without_javascript_the_buttons_post_and_redirect_with_a_message(
        answered: QueuedCall, phones: Any) -> None:
    client = as_user(phones.agent)
    response = client.post(reverse("desk:state"), {"action": "sign_out"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("desk:desk")
    assert "is not possible while you are" in response.content.decode()


def test_state_changes_need_the_csrf_token(phones: Any) -> None:
    client = as_user(phones.agent, enforce_csrf_checks=True)
    assert post_state(client, "sign_in").status_code == 403
    assert not AgentStatus.objects.filter(pk=phones.agent.pk).exists()
    page = client.get(reverse("desk:desk")).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    answer = client.post(reverse("desk:state"), {"action": "sign_in"},
                         HTTP_ACCEPT="application/json", HTTP_X_CSRFTOKEN=token)
    assert answer.status_code == 200


def test_get_is_not_a_state_change(phones: Any) -> None:
    assert as_user(phones.agent).get(reverse("desk:state")).status_code == 405


def test_status_reports_the_live_call(answered: QueuedCall, phones: Any) -> None:
    status = as_user(phones.agent).get(reverse("desk:status")).json()
    assert status["state"] == "talking" and status["call"] == answered.pk
    assert status["call_outcome"] == "talking" and status["answered_at"]


def test_a_reload_during_a_call_renders_the_pop_and_the_form(answered: QueuedCall,
                                                             phones: Any) -> None:
    page = as_user(phones.agent).get(reverse("desk:desk")).content.decode()
    assert 'data-testid="screen-pop"' in page and f'data-call="{answered.pk}"' in page
    assert 'data-testid="order-form"' in page and 'value="13900001111"' in page
