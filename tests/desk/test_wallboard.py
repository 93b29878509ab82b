"""The wallboard pages: who may open them, what they show, forcing agents' states and the
supervisor's call commands (listen / whisper / barge / hang up) through the desk services."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse

from hotline.contactcentre import services
from hotline.contactcentre.commands import do_finish_command
from hotline.contactcentre.models import (
    AgentStatus,
    CallCommand,
    QueuedCall,
    SipExtension,
    State,
    StateChange,
)
from hotline.desk.wallboard_views import clock, percent, render_command_done, render_live

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"  # assertions read the English msgids; Chinese is tested below


def as_user(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def talking(desk: Any, user: Any, caller: str = "13812345678") -> QueuedCall:
    services.do_sign_in(user)
    services.do_set_state(user, "ready")
    call = services.do_enqueue_call(desk.general, call_ref=f"sip-{user.username}",
                                    caller=caller, gateway="gw-1")
    assert services.do_offer_call(call, user.pk)
    return services.do_call_answered(call.pk)


def state(user: Any) -> str:
    return AgentStatus.objects.get(pk=user.pk).state


# --- who may ---------------------------------------------------------------------------------

@pytest.mark.parametrize("who, allowed", [
    ("monitor", True), ("admin", True), ("agent", False), ("handler", False),
    ("dept_admin", False), ("leader", False), ("auditor", False), ("sub_agent", False),
])
def test_role_matrix(desk: Any, client: Client, who: str, allowed: bool) -> None:
    services.do_sign_in(desk.bob)
    call = talking(desk, desk.sub_agent)
    as_user(client, getattr(desk, who))
    expected = 200 if allowed else 403
    assert client.get(reverse("wallboard:page")).status_code == expected
    assert client.get(reverse("wallboard:live")).status_code == expected
    assert client.get(reverse("wallboard:agent", args=[desk.bob.pk])).status_code == expected
    response = client.post(reverse("wallboard:agent_state", args=[desk.bob.pk]),
                           {"action": "ready"}, headers=HTMX)
    assert response.status_code == expected
    assert state(desk.bob) == (State.IDLE if allowed else State.SIGNED_IN)
    response = client.post(reverse("wallboard:call_command", args=[call.pk]),
                           {"action": "hangup"}, headers=HTMX)
    assert response.status_code == expected
    assert CallCommand.objects.count() == (1 if allowed else 0)


def test_anonymous_users_are_sent_to_the_login(client: Client, desk: Any) -> None:
    for url in (reverse("wallboard:page"), reverse("wallboard:live")):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.post(reverse("wallboard:agent_state", args=[desk.agent.pk]),
                           {"action": "ready"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_system_account_and_unknown_agents(desk: Any, client: Client) -> None:
    assert as_user(client, desk.system).get(reverse("wallboard:page")).status_code == 403
    as_user(client, desk.monitor)
    assert client.get(reverse("wallboard:agent", args=[desk.handler.pk])).status_code == 404
    assert client.post(reverse("wallboard:call_command", args=[99999]),
                       {"action": "listen"}).status_code == 404


# --- what it shows ---------------------------------------------------------------------------

def test_the_page_shows_tiles_queues_and_agents(desk: Any, client: Client) -> None:
    SipExtension.objects.create(number="8001", agent=desk.agent)
    services.do_sign_in(desk.agent, extension="8001")
    services.do_set_state(desk.agent, "not_ready", reason="meal")
    talking(desk, desk.bob, caller="13800000000")
    services.do_enqueue_call(desk.general, call_ref="w1", caller="13900000001")
    html = as_user(client, desk.monitor).get(reverse("wallboard:page")).content.decode()
    for testid in ("tile-waiting", "tile-longest-wait", "tile-sl-15", "tile-sl-60",
                   "tile-abandoned", "tile-agents-signed-in", "tile-agents-ready",
                   "tile-agents-not-ready", "tile-agents-ringing", "tile-agents-talking",
                   "tile-agents-wrap-up", "queue-row-general", "queue-row-cantonese",
                   f"agent-row-{desk.agent.pk}", f"agent-row-{desk.bob.pk}",
                   f"agent-actions-{desk.bob.pk}", "live-status", "command-results",
                   "no-phone-note"):
        assert f'data-testid="{testid}"' in html, testid
    waiting = re.search(r'data-testid="tile-waiting">.*?<b class="value">(\d+)</b>', html, re.S)
    assert waiting is not None and waiting.group(1) == "1"
    assert "138****0000" in html and "13800000000" not in html  # masked for the big screen
    assert "Meal" in html and "8001" in html
    assert 'data-ws-path="/ws/desk/wallboard/?lang=en"' in html
    assert "wallboard.js" in html


def test_a_monitor_with_an_extension_gets_no_note(desk: Any, client: Client) -> None:
    SipExtension.objects.create(number="8009", agent=desk.monitor)
    html = as_user(client, desk.monitor).get(reverse("wallboard:page")).content.decode()
    assert 'data-testid="no-phone-note"' not in html


def test_the_live_part_alone(desk: Any, client: Client) -> None:
    services.do_sign_in(desk.agent)
    html = as_user(client, desk.admin).get(reverse("wallboard:live")).content.decode()
    assert html.startswith('<div class="wb-board"')
    assert f'data-testid="agent-row-{desk.agent.pk}"' in html and "<html" not in html
    assert render_live("en").startswith('<div class="wb-board"')


def test_the_page_in_chinese(desk: Any, client: Client, settings: Any) -> None:
    from tests.portal.conftest import ensure_compiled_messages

    ensure_compiled_messages()
    settings.LANGUAGE_CODE = "zh-hans"
    services.do_sign_in(desk.agent)
    services.do_set_state(desk.agent, "ready")
    html = as_user(client, desk.monitor).get(reverse("wallboard:page")).content.decode()
    for text in ("班长监控", "排队等待", "最长等待", "服务水平", "示闲", "坐席", "今日接听"):
        assert text in html, text
    html = render_live("zh-hans")
    assert "状态时长" in html


def test_formatting() -> None:
    assert (clock(None), clock(0), clock(65.9), clock(3725)) == ("—", "00:00", "01:05", "1:02:05")
    assert (percent(None), percent(0.8), percent(1 / 3)) == ("—", "80%", "33%")


# --- forcing an agent's state ----------------------------------------------------------------

def test_a_monitor_forces_not_ready_ready_and_sign_out(desk: Any, client: Client) -> None:
    services.do_sign_in(desk.agent)
    as_user(client, desk.monitor)
    url = reverse("wallboard:agent_state", args=[desk.agent.pk])
    response = client.post(url, {"action": "not_ready", "reason": "meeting"}, headers=HTMX)
    assert response.status_code == 200
    assert 'data-testid="panel-notice"' in response.content.decode()
    status = AgentStatus.objects.get(pk=desk.agent.pk)
    assert (status.state, status.reason) == (State.BUSY, "meeting")
    assert client.post(url, {"action": "ready"}, headers=HTMX).status_code == 200
    assert state(desk.agent) == State.IDLE
    assert client.post(url, {"action": "sign_out"}, headers=HTMX).status_code == 200
    assert state(desk.agent) == State.SIGNED_OUT
    changes = StateChange.objects.filter(agent=desk.agent).order_by("id")
    assert [(c.action, c.actor_id) for c in changes] == [
        ("sign_in", desk.agent.pk), ("not_ready", desk.monitor.pk), ("ready", desk.monitor.pk),
        ("sign_out", desk.monitor.pk)]


def test_refusals_are_shown(desk: Any, client: Client) -> None:
    talking(desk, desk.agent)
    as_user(client, desk.monitor)
    url = reverse("wallboard:agent_state", args=[desk.agent.pk])
    response = client.post(url, {"action": "sign_out"}, headers=HTMX)
    assert response.status_code == 409
    body = response.content.decode()
    assert 'data-testid="panel-error"' in body
    assert "王坐席 is On a call now: “Sign out” is not possible." in body
    assert state(desk.agent) == State.TALKING
    services.do_sign_in(desk.bob)
    url = reverse("wallboard:agent_state", args=[desk.bob.pk])
    response = client.post(url, {"action": "not_ready", "reason": ""}, headers=HTMX)
    assert response.status_code == 422 and "Choose a reason for not ready." in response.content.decode()
    response = client.post(url, {"action": "answer"}, headers=HTMX)
    assert response.status_code == 422 and state(desk.bob) == State.SIGNED_IN


def test_without_htmx_the_form_redirects_with_a_message(desk: Any, client: Client) -> None:
    talking(desk, desk.agent)
    as_user(client, desk.monitor)
    response = client.post(reverse("wallboard:agent_state", args=[desk.agent.pk]),
                           {"action": "sign_out"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("wallboard:page")
    assert "is not possible" in response.content.decode()


def test_the_panel_offers_what_the_agent_is_doing(desk: Any, client: Client) -> None:
    call = talking(desk, desk.agent, caller="13812345678")
    services.do_sign_in(desk.bob)
    as_user(client, desk.monitor)
    html = client.get(reverse("wallboard:agent", args=[desk.agent.pk])).content.decode()
    for testid in ("action-ready", "action-not-ready", "action-reason", "action-sign-out",
                   "call-listen", "call-whisper", "call-barge", "call-hangup", "panel-no-phone"):
        assert f'data-testid="{testid}"' in html, testid
    assert "138****5678" in html and reverse("wallboard:call_command", args=[call.pk]) in html
    html = client.get(reverse("wallboard:agent", args=[desk.bob.pk])).content.decode()
    assert 'data-testid="call-listen"' not in html and 'data-testid="action-ready"' in html


# --- the supervisor's call commands ----------------------------------------------------------

@pytest.mark.parametrize("action", ["listen", "whisper", "barge"])
def test_listen_whisper_barge_ring_the_monitors_own_extension(desk: Any, client: Client,
                                                              action: str) -> None:
    call = talking(desk, desk.agent)
    SipExtension.objects.create(number="8009", agent=desk.monitor)
    as_user(client, desk.monitor)
    response = client.post(reverse("wallboard:call_command", args=[call.pk]),
                           {"action": action}, headers=HTMX)
    assert response.status_code == 200
    assert "your phone 8009 will ring" in response.content.decode()
    command = CallCommand.objects.get()
    assert (command.call_id, command.action, command.target, command.gateway,
            command.issued_by_id, command.status) == (
        call.pk, action, "extension:8009", "gw-1", desk.monitor.pk, "pending")
    # The panel lists the pending command of this monitor on this call.
    html = client.get(reverse("wallboard:agent", args=[desk.agent.pk])).content.decode()
    assert 'data-testid="panel-commands"' in html and 'data-status="pending"' in html


def test_a_monitor_without_an_extension_is_told_to_get_one(desk: Any, client: Client) -> None:
    call = talking(desk, desk.agent)
    as_user(client, desk.monitor)
    url = reverse("wallboard:call_command", args=[call.pk])
    response = client.post(url, {"action": "listen"}, headers=HTMX)
    assert response.status_code == 422
    assert "You need a SIP extension of your own" in response.content.decode()
    assert not CallCommand.objects.exists()
    # Hanging up needs no phone of the monitor's.
    response = client.post(url, {"action": "hangup"}, headers=HTMX)
    assert response.status_code == 200 and "Force hang-up requested." in response.content.decode()
    assert CallCommand.objects.get().action == "hangup"


def test_commands_on_a_call_that_is_not_connected(desk: Any, client: Client) -> None:
    SipExtension.objects.create(number="8009", agent=desk.monitor)
    call = talking(desk, desk.agent)
    services.do_call_ended(call.pk)
    as_user(client, desk.monitor)
    url = reverse("wallboard:call_command", args=[call.pk])
    response = client.post(url, {"action": "barge"}, headers=HTMX)
    assert response.status_code == 409
    assert "The call is no longer connected to an agent." in response.content.decode()
    response = client.post(url, {"action": "hold"}, headers=HTMX)  # not a supervisor's command
    assert response.status_code == 422
    waiting = services.do_enqueue_call(desk.general, call_ref="w", gateway="gw-1")
    response = client.post(reverse("wallboard:call_command", args=[waiting.pk]),
                           {"action": "listen"}, headers=HTMX)
    assert response.status_code == 409 and not CallCommand.objects.exists()


def test_the_outcome_line_of_a_command(desk: Any) -> None:
    call = talking(desk, desk.agent)
    SipExtension.objects.create(number="8009", agent=desk.monitor)
    from hotline.contactcentre.commands import do_issue_command

    command = do_issue_command(desk.monitor, call.pk, "listen")
    assert do_finish_command(command.pk, ok=False, result="486 Busy Here",
                             now=dt.datetime(2026, 3, 2, 2, 3, 4, tzinfo=dt.UTC))
    event = {"kind": "command_done", "at": "2026-03-02T02:03:04+00:00", "action": "listen",
             "ok": False, "result": "486 Busy Here", "call": call.pk, "command": command.pk}
    html = render_command_done(event, "en")
    assert 'data-ok="0"' in html and "Listen in" in html and "486 Busy Here" in html
    assert "10:03:04" in html  # the centre's local time
    assert "王坐席 (138****5678)" in html  # whose call, the caller masked


def test_the_navigation_links_the_wallboard_for_monitors_and_centre_admins(city: City) -> None:
    for user, shown in ((city.monitor, True), (city.admin, True), (city.agent, False),
                        (city.handler, False)):
        client = Client()
        client.force_login(user)
        page = client.get(reverse("portal:order_list")).content.decode()
        assert ('id="nav-wallboard"' in page) is shown, user.username
