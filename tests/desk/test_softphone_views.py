"""The softphone's signalling endpoints and services: who may register, what an offer must be,
that a registration is only its agent's, and that 签出 and a new desk end the old one."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from hotline.contactcentre import softphones
from hotline.contactcentre.models import PhoneKind, SipExtension, SoftphoneSession, SoftphoneState
from hotline.contactcentre.services import do_sign_in, do_sign_out
from tests.desk.test_desk_views import _english, as_user  # noqa: F401 - the fixture by name

pytestmark = pytest.mark.django_db
OFFER = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"


@pytest.fixture
def soft(desk: Any) -> Any:
    desk.alice_ext = SipExtension.objects.create(number="8001", agent=desk.agent,
                                                 phone=PhoneKind.SOFTPHONE)
    desk.bob_ext = SipExtension.objects.create(number="8002", agent=desk.bob)  # a SIP phone
    return desk


def register(user: Any, sdp: str = OFFER) -> Any:
    return as_user(user).post(reverse("desk:softphone_register"), {"sdp": sdp},
                              HTTP_ACCEPT="application/json")


def test_a_signed_in_agent_registers_and_reads_the_gateways_answer(soft: Any) -> None:
    do_sign_in(soft.agent)
    response = register(soft.agent)
    assert response.status_code == 201
    session_id = response.json()["session"]
    claimed = softphones.claim_softphone_offers("gw-1")
    assert [(c.session_id, c.extension) for c in claimed] == [(session_id, "8001")]
    assert softphones.claim_softphone_offers("gw-2") == []  # taken once only
    assert softphones.do_answer_softphone(session_id, "gw-1", "v=0 answer")
    page = as_user(soft.agent).get(reverse("desk:softphone_session", args=[session_id]))
    assert page.json() == {"session": session_id, "state": "answered", "answer": "v=0 answer"}


def test_who_may_register(soft: Any, city: Any) -> None:
    assert register(soft.agent).status_code == 409  # not signed in yet
    do_sign_in(soft.bob)
    response = register(soft.bob)  # bob's calls ring on his SIP phone
    assert response.status_code == 409
    assert "SIP phone" in response.json()["error"]
    assert as_user(city.handler).post(reverse("desk:softphone_register"),
                                      {"sdp": OFFER}).status_code == 403
    assert not SoftphoneSession.objects.exists()


@pytest.mark.parametrize("sdp", ["", "hello", "v=0\r\nm=video 9 RTP/AVP 96\r\n", "v=0" + "x" * 30_000,
                                 "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=\x00\r\n"])
def test_an_offer_that_is_not_an_audio_session_description_is_refused(soft: Any, sdp: str) -> None:
    do_sign_in(soft.agent)
    response = register(soft.agent, sdp)
    assert response.status_code == 422, response.content
    assert not SoftphoneSession.objects.exists()


def test_a_registration_is_its_agents_own(soft: Any) -> None:
    do_sign_in(soft.agent)
    session_id = register(soft.agent).json()["session"]
    other = as_user(soft.bob)
    assert other.get(reverse("desk:softphone_session", args=[session_id])).status_code == 404
    other.post(reverse("desk:softphone_close", args=[session_id]))
    assert SoftphoneSession.objects.get(pk=session_id).state == SoftphoneState.OFFERED
    as_user(soft.agent).post(reverse("desk:softphone_close", args=[session_id]))
    assert SoftphoneSession.objects.get(pk=session_id).state == SoftphoneState.CLOSED


def test_a_new_desk_replaces_the_old_one_and_signing_out_ends_it(soft: Any) -> None:
    do_sign_in(soft.agent)
    first = register(soft.agent).json()["session"]
    second = register(soft.agent).json()["session"]
    assert SoftphoneSession.objects.get(pk=first).state == SoftphoneState.CLOSED
    softphones.claim_softphone_offers("gw-1")
    softphones.do_answer_softphone(second, "gw-1", "v=0 answer")
    assert softphones.closed_softphones("gw-1", [first, second]) == {first}
    do_sign_out(soft.agent)
    assert softphones.closed_softphones("gw-1", [second]) == {second}
    assert softphones.softphone_extensions() == {"8001"}
