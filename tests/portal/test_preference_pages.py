"""The citizen's preference page with the Django client: by the signed link of a mail (no
login), by phone and SMS code (the portal's codes and limits), one-click unsubscribe without a
CSRF token, bad and expired links, and every change recorded and honoured at once."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from hotline.intake.models import SmsOptOut
from hotline.intake.sms.outbound import LOG_OUTBOX
from hotline.orders.models import Citizen
from hotline.outreach import consent, preferences
from hotline.outreach.models import ContactPreference, PreferenceChange

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db
EMAIL = "wang@example.org"
PHONE = "13800138000"


@pytest.fixture(autouse=True)
def _clean() -> None:
    LOG_OUTBOX.clear()


def link_path(address: str, kind: str = "notice") -> str:
    return preferences.preference_link(address, kind).split("://", 1)[1].split("/", 1)[1]


def choices(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"channel": "auto", "language": "zh-hans", "notices": "on",
                            "campaigns": "on"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_the_link_shows_and_changes_the_preference_and_it_counts_at_once(city: City) -> None:
    citizen = Citizen.objects.create(phone="13800001111", email=EMAIL)
    client = Client()
    page = client.get("/" + link_path(EMAIL))
    body = page.content.decode()
    assert page.status_code == 200 and 'value="auto"' in body and EMAIL not in body  # masked
    assert consent.may_message(citizen, "email", purpose="campaign")
    r = client.post("/" + link_path(EMAIL), choices(channel="email", language="en",
                                                    campaigns=None))
    assert r.status_code == 200 and 'id="saved"' in r.content.decode()
    pref = consent.preference(citizen)
    assert (pref.channel, pref.language, pref.notices, pref.campaigns) == (
        "email", "en", True, False)
    assert not consent.may_message(citizen, "email", purpose="campaign")
    assert not consent.may_message(citizen, "sms")  # email only now
    change = PreferenceChange.objects.get()
    assert change.citizen == citizen and change.via == "email_link"
    assert change.before["campaigns"] is True and change.after["campaigns"] is False
    assert change.at <= timezone.now()


def test_an_address_nobody_registered_becomes_a_citizen_with_its_choice(city: City) -> None:
    r = Client().post("/" + link_path("new@example.org", "campaign"),
                      choices(channel="none", notices=None, campaigns=None))
    assert r.status_code == 200
    citizen = Citizen.objects.get(email="new@example.org")
    assert not consent.may_message("new@example.org", "email", purpose="campaign")
    assert ContactPreference.objects.get(citizen=citizen).channel == "none"


def test_bad_and_expired_links_get_a_clear_4xx_page(city: City) -> None:
    client = Client()
    token = preferences.preference_token(EMAIL)
    r = client.get(f"/citizen/preferences/{token[:-3]}xyz/")
    assert r.status_code == 400 and "not valid" in r.content.decode()
    with time_machine.travel(timezone.now() + dt.timedelta(days=181)):
        r = client.get(f"/citizen/preferences/{token}/")
        assert r.status_code == 410 and "expired" in r.content.decode()
        r = client.post(f"/citizen/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"})
        assert r.status_code == 410
    r = client.post(f"/citizen/preferences/{token}/", choices(channel="fax"))
    assert r.status_code == 400 and not PreferenceChange.objects.exists()


def test_one_click_unsubscribe_needs_no_csrf_token_and_stops_that_kind(city: City) -> None:
    citizen = Citizen.objects.create(email=EMAIL)
    client = Client(enforce_csrf_checks=True)
    r = client.post(preferences.unsubscribe_link(EMAIL, "campaign").split("8000", 1)[1],
                    {"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200
    pref = consent.preference(citizen)
    assert not pref.campaigns and pref.notices
    assert PreferenceChange.objects.get().via == "one_click"
    client.post(preferences.unsubscribe_link(EMAIL, "notice").split("8000", 1)[1],
                {"List-Unsubscribe": "One-Click"})
    assert not consent.may_message(citizen, "email")
    # The page itself keeps its CSRF protection.
    assert client.post("/" + link_path(EMAIL), choices()).status_code == 403
    # A GET of the unsubscribe address (a person clicking it) shows the page.
    r = client.get(preferences.unsubscribe_link(EMAIL, "notice").split("8000", 1)[1])
    assert r.status_code == 302 and "/citizen/preferences/" in r["Location"]


def last_code() -> str:
    sent = [s for s in LOG_OUTBOX if s.purpose == "verify"]
    assert sent, "no code was sent"
    found = re.search(r"\d{6}", sent[-1].text)
    assert found
    return found.group(0)


def test_the_phone_and_an_sms_code_open_the_page_and_td_is_the_one_list(city: City) -> None:
    citizen = Citizen.objects.create(phone=PHONE)
    client = Client()
    assert client.get("/citizen/preferences/phone/")["Location"] == "/citizen/preferences/"
    r = client.post("/citizen/preferences/", {"phone": PHONE, "send_code": "1"})
    assert r.status_code == 200
    r = client.post("/citizen/preferences/", {"phone": PHONE, "code": "000000"
                    if last_code() != "000000" else "111111"})
    assert r.status_code == 400
    r = client.post("/citizen/preferences/", {"phone": PHONE, "code": last_code()})
    assert r.status_code == 302 and r["Location"] == "/citizen/preferences/phone/"
    page = client.get("/citizen/preferences/phone/")
    assert page.status_code == 200 and "138****8000" in page.content.decode()
    r = client.post("/citizen/preferences/phone/", choices(sms_stopped="on"))
    assert r.status_code == 200
    assert SmsOptOut.objects.filter(phone=PHONE).exists()  # intake's TD list, the one list
    assert not consent.may_message(citizen, "sms")
    stop = PreferenceChange.objects.get()
    assert stop.via == "phone_code" and (stop.before["sms_stopped"], stop.after["sms_stopped"]
                                         ) == (False, True)
    client.post("/citizen/preferences/phone/", choices(notices=None))
    assert not SmsOptOut.objects.filter(phone=PHONE).exists()
    assert consent.refusal(citizen, "sms") == consent.NO_NOTICES
    assert PreferenceChange.objects.count() == 2


def test_the_phone_way_in_has_the_portals_abuse_controls(city: City, settings: Any) -> None:
    settings.HOTLINE_PORTAL_CODES_PER_PHONE = 1
    client = Client()
    assert client.post("/citizen/preferences/", {"phone": PHONE, "website": "x",
                                                 "send_code": "1"}).status_code == 400
    assert client.post("/citizen/preferences/", {"phone": "123", "send_code": "1"}
                       ).status_code == 400
    assert client.post("/citizen/preferences/", {"phone": PHONE, "send_code": "1"}
                       ).status_code == 200
    r = client.post("/citizen/preferences/", {"phone": PHONE, "send_code": "1"})
    assert r.status_code == 429
    assert len([s for s in LOG_OUTBOX if s.purpose == "verify"]) == 1


def test_the_email_route_cannot_restart_sms_stopped_by_td(city: City) -> None:
    Citizen.objects.create(phone=PHONE, email=EMAIL)
    SmsOptOut.objects.create(phone=PHONE, at=timezone.now())
    page = Client().get("/" + link_path(EMAIL))
    assert "replied TD" in page.content.decode() and 'name="sms_stopped"' not in \
        page.content.decode()
    with pytest.raises(Exception, match="confirmed phone"):
        preferences.do_change_preference(PHONE, preferences.Choice(), via="email_link",
                                         sms_stopped=False)
    assert SmsOptOut.objects.filter(phone=PHONE).exists()


def test_the_home_page_leads_to_the_preference_page(city: City) -> None:
    assert 'href="/citizen/preferences/"' in Client().get("/citizen/").content.decode()
