"""Call controls from the desk: each a CallCommand for the gateway (issued or refused with a
message), and the transfer directory."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from hotline.contactcentre.commands import do_finish_command
from hotline.contactcentre.models import CallCommand, DeskEvent, QueuedCall
from hotline.contactcentre.services import do_set_state, do_sign_in
from tests.desk import test_desk_views as views_fixtures
from tests.desk.test_desk_views import as_user

# The shared desk fixtures (pytest finds them as names of this module).
_english = views_fixtures._english
answered = views_fixtures.answered
offered = views_fixtures.offered
phones = views_fixtures.phones

pytestmark = pytest.mark.django_db


def command(client: Any, call: QueuedCall, action: str, target: str = "") -> Any:
    return client.post(reverse("desk:call_command", args=[call.pk]),
                       {"action": action, "target": target}, HTTP_ACCEPT="application/json")


@pytest.mark.parametrize("action,target,stored", [
    ("hold", "", ""),
    ("resume", "", ""),
    ("hangup", "", ""),
    ("blind_transfer", "0591-12345001", "number:059112345001"),  # the water department
    ("blind_transfer", "queue:cantonese", "queue:cantonese"),
    ("consult", "8002", "extension:8002"),
    ("conference", "0591-12345001", "number:059112345001"),
    ("emergency", "120", "number:120"),
])
def test_the_agent_on_the_call_issues_commands(answered: QueuedCall, phones: Any, action: str,
                                               target: str, stored: str) -> None:
    response = command(as_user(phones.agent), answered, action, target)
    assert response.status_code == 201, response.content
    row = CallCommand.objects.get(pk=response.json()["command"])
    assert (row.action, row.target, row.gateway, row.issued_by, row.status) == (
        action, stored, "gw-1", phones.agent, "pending")


@pytest.mark.parametrize("action,target,status,message", [
    ("consult", "queue:cantonese", 422, "a consultation or three-way call needs a person"),
    ("emergency", "999", 422, "emergency numbers are 110, 119, 120 and 122"),
    ("blind_transfer", "", 422, "say where to transfer the call"),
    ("blind_transfer", "13512345678", 422, "this number is not in the transfer directory"),
    ("listen", "", 422, "unknown command"),  # a monitor's command, not on the agent's desk
    ("shred", "", 422, "unknown command"),
])
def test_bad_commands_are_refused_with_a_message(answered: QueuedCall, phones: Any, action: str,
                                                 target: str, status: int, message: str) -> None:
    response = command(as_user(phones.agent), answered, action, target)
    assert response.status_code == status and message in response.json()["error"]
    assert not CallCommand.objects.exists()


def test_the_refusal_is_in_chinese_on_a_chinese_desk(answered: QueuedCall, phones: Any,
                                                    settings: Any) -> None:
    settings.LANGUAGE_CODE = "zh-hans"
    response = command(as_user(phones.agent), answered, "emergency", "999")
    assert response.json()["error"] == "紧急号码为 110、119、120 和 122"


def test_another_agent_cannot_command_the_call(answered: QueuedCall, phones: Any) -> None:
    response = command(as_user(phones.bob), answered, "hangup")
    assert response.status_code == 403 and "not your call" in response.json()["error"]
    assert command(as_user(phones.handler), answered, "hangup").status_code == 403
    assert not CallCommand.objects.exists()


def test_a_monitor_may_hang_up_an_agents_call(answered: QueuedCall, phones: Any) -> None:
    assert command(as_user(phones.monitor), answered, "hangup").status_code == 201


def test_a_ringing_call_takes_no_commands_yet(offered: QueuedCall, phones: Any) -> None:
    response = command(as_user(phones.agent), offered, "hold")
    assert response.status_code == 409
    assert response.json()["error"] == "the call is not connected to an agent"


def test_commands_need_the_csrf_token(answered: QueuedCall, phones: Any) -> None:
    client = as_user(phones.agent, enforce_csrf_checks=True)
    assert command(client, answered, "hold").status_code == 403
    assert not CallCommand.objects.exists()


def test_the_gateways_outcome_is_an_event_for_the_issuer(answered: QueuedCall,
                                                         phones: Any) -> None:
    issued = command(as_user(phones.agent), answered, "hold").json()["command"]
    assert do_finish_command(issued, ok=True, result="on hold")
    event = DeskEvent.objects.filter(kind="command_done").get()
    assert event.agent_id == phones.agent.pk and event.payload["command"] == issued


# --- the transfer directory -------------------------------------------------------------------

def test_the_directory_lists_departments_agents_and_queues(phones: Any) -> None:
    do_sign_in(phones.bob)
    do_set_state(phones.bob, "ready")
    html = as_user(phones.agent).get(reverse("desk:directory")).content.decode()
    assert "市水务局" in html and 'data-target="0591-12345001"' in html
    assert "市住建局" not in html  # no transfer number
    assert 'data-target="8002"' in html and "张坐席" in html
    assert 'class="badge state-idle">Ready for calls' in html
    assert 'data-target="8001"' not in html  # not oneself
    assert 'data-target="queue:general"' in html and 'data-target="queue:cantonese"' in html
    for kind in ("blind_transfer", "consult", "conference"):
        assert f'data-command="{kind}" data-target="0591-12345001"' in html


@pytest.mark.parametrize("q,present,absent", [
    ("水务", "0591-12345001", "8002"),
    ("800", "8002", "0591-12345001"),
    ("张", "8002", "queue:general"),
    ("粤语", "queue:cantonese", "queue:general"),
])
def test_the_directory_is_searchable(phones: Any, q: str, present: str, absent: str) -> None:
    html = as_user(phones.agent).get(reverse("desk:directory"), {"q": q}).content.decode()
    assert f'data-target="{present}"' in html and f'data-target="{absent}"' not in html
