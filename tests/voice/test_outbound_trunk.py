"""The dialler's database side without SIP: the trunk as the dialler reads it, the registration
status staff see in the admin, the outbound contact and a recording left by a killed gateway."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from hotline.contactcentre.models import CallRecording
from hotline.orders.models import Contact
from hotline.orders.services import NewOrder, do_create_order
from hotline.outreach.calls import do_queue_call
from hotline.outreach.models import OutboundCall, Trunk, TrunkStatus
from hotline.voice import outbound_db
from tests.conftest import City

pytestmark = pytest.mark.django_db


def test_without_a_trunk_row_the_settings_trunk_is_a_static_one() -> None:
    assert outbound_db.load_trunk(None) is None
    trunk = outbound_db.load_trunk(("127.0.0.1", 5070))
    assert trunk is not None and trunk.account is None and trunk.auth is None
    assert trunk.destination == ("127.0.0.1", 5070)
    assert trunk.uri("13800138000") == "sip:13800138000@127.0.0.1:5070"
    assert trunk.caller_id == "12345"


def test_the_active_trunk_row_wins_with_its_proxy_credentials_and_caller_id() -> None:
    Trunk.objects.create(name="old", registrar_host="127.0.0.1", is_active=False)
    Trunk.objects.create(name="carrier", registrar_host="localhost", registrar_port=5080,
                         domain="ims.example", outbound_proxy="sip:127.0.0.1:5090;lr",
                         username="0591123", auth_username="auth-0591", password="pw",
                         register_expires=120, caller_id="12345", max_concurrent=12)
    trunk = outbound_db.load_trunk(("10.0.0.1", 5060))
    assert trunk is not None and trunk.name == "carrier"
    assert trunk.registrar == ("127.0.0.1", 5080)  # resolved
    assert trunk.destination == ("127.0.0.1", 5090)  # INVITEs through the proxy
    assert trunk.uri("110") == "sip:110@ims.example"
    account = trunk.account
    assert account is not None and account.username == "0591123"
    assert account.auth_username == "auth-0591" and account.expires == 120
    assert trunk.auth == ("auth-0591", "pw") and trunk.max_concurrent == 12


def test_the_registration_state_is_listed_in_the_admin(city: City, client: Client) -> None:
    Trunk.objects.create(name="carrier", registrar_host="127.0.0.1", username="u", password="p")
    trunk = outbound_db.load_trunk(None)
    outbound_db.write_status("gw-1", trunk, TrunkStatus.State.FAILED, sip_status=403,
                             reason="credentials rejected", active_calls=0)
    row = TrunkStatus.objects.get(gateway="gw-1")
    assert (row.state, row.sip_status, row.trunk_name) == ("failed", 403, "carrier")
    city.admin.is_staff = True
    city.admin.save()
    client.force_login(city.admin)
    page = client.get("/admin/outreach/trunkstatus/")
    assert page.status_code == 200
    assert "credentials rejected" in page.content.decode()


def test_the_outbound_contact_is_linked_to_the_order_and_names_the_agent(city: City) -> None:
    order, _ = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="停水", text="三天没水",
        citizen_phone="13800138000"))
    call = do_queue_call("13800138000", "test", "agent", agent=city.agent,
                         agent_extension="8001", order=order)
    contact = Contact.objects.get(pk=outbound_db.record_contact(call.pk, call.number, "abc@h"))
    assert contact.direction == Contact.Direction.OUTBOUND and contact.channel == "phone"
    assert contact.agent == city.agent and list(contact.orders.all()) == [order]
    assert contact.citizen is not None and contact.citizen.phone == "13800138000"


def test_a_recording_a_killed_gateway_left_is_stored_on_the_next_start(
        city: City, tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.contactcentre import acd_services

    settings.MEDIA_ROOT = tmp_path / "media"
    # The gateway's worker threads close their connection; this test has only the test's own.
    monkeypatch.setattr(acd_services, "_fresh", lambda: None)
    call = do_queue_call("13800138000", "test", "ivr", flow={"x": 1})
    contact_id = outbound_db.record_contact(call.pk, call.number, "abc@h")
    OutboundCall.objects.filter(pk=call.pk).update(contact_id=contact_id)
    folder = tmp_path / "recordings" / "2026-12-03"
    folder.mkdir(parents=True)
    left = folder / outbound_db.recording_name("gw:1", call.pk)
    with wave.open(str(left), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * 16000)
    other = folder / outbound_db.recording_name("another", call.pk)
    other.write_bytes(left.read_bytes())
    assert outbound_db.recover_recordings(tmp_path / "recordings", "gw:1") == 1
    recording = CallRecording.objects.get(contact_id=contact_id)
    assert recording.seconds == pytest.approx(2.0)
    assert not left.exists() and other.exists()  # another gateway's file is its own
