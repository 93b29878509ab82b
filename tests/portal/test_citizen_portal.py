"""The citizen portal with the Django client: submit with an SMS code or anonymously, the
limits and the honeypot, the timeline (and what it never shows), rating and reopening."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from hotline.intake import tokens
from hotline.intake.models import ReceivedMessage
from hotline.intake.sms.outbound import LOG_OUTBOX
from hotline.orders.models import Attachment, Order
from hotline.orders.services import do_action

if TYPE_CHECKING:
    from tests.conftest import City

PHONE = "13800138000"


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


PNG = _png()


@pytest.fixture(autouse=True)
def _clean() -> None:
    cache.clear()
    LOG_OUTBOX.clear()


def form(**extra: object) -> dict[str, object]:
    data: dict[str, object] = {"order_type": "complaint", "category": "100101",
                               "text": "小区停水两天了", "district": "gulou",
                               "street": "gulou-dongjie", "address": "东街1号"}
    data.update(extra)
    return data


def last_code() -> str:
    sent = [s for s in LOG_OUTBOX if s.purpose == "verify"]
    assert sent, "no code was sent"
    found = re.search(r"\d{6}", sent[-1].text)
    assert found
    return found.group(0)


def submit_verified(client: Client, **extra: object) -> str:
    r = client.post("/citizen/submit/", form(phone=PHONE, send_code="1"))
    assert r.status_code == 200, r.content.decode()[:2000]
    r = client.post("/citizen/submit/", form(phone=PHONE, code=last_code(), **extra))
    assert r.status_code == 200, r.content.decode()[:3000]
    found = re.search(r'id="acceptance-number">(\d{8})<', r.content.decode())
    assert found, r.content.decode()[:3000]
    return found.group(1)


def test_home_links_submit_follow_and_knowledge(client: Client, city: City) -> None:
    body = client.get("/citizen/").content.decode()
    assert "/citizen/submit/" in body and "/citizen/follow/" in body
    assert "/knowledge/public/" in body
    assert "/citizen/" in client.get("/").content.decode()  # the landing page links here


def test_submit_with_sms_code_creates_order_through_intake(client: Client, city: City) -> None:
    number = submit_verified(client, email="a@example.org",
                             uploads=SimpleUploadedFile("photo.png", PNG, "image/png"),
                             latitude="26.08", longitude="119.30")
    order = Order.objects.get(number=number)
    assert order.channel == "web" and order.type == "complaint"
    assert order.category is not None and order.category.code == "100101"
    assert order.citizen.phone == PHONE and order.district is not None
    assert "东街街道" in order.address
    assert Attachment.objects.filter(order=order, kind="intake").count() == 1
    record = ReceivedMessage.objects.get(order=order)
    assert record.channel == "web" and record.outcome == "created"
    accepted = [s for s in LOG_OUTBOX if s.purpose == "accepted"]
    assert accepted and number in accepted[-1].text and accepted[-1].phone == PHONE
    assert mail.outbox and number in mail.outbox[-1].body
    assert tokens.reply_token(number) in mail.outbox[-1].body


def test_wrong_code_is_refused_and_code_wears_out(client: Client, city: City) -> None:
    client.post("/citizen/submit/", form(phone=PHONE, send_code="1"))
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        r = client.post("/citizen/submit/", form(phone=PHONE, code=wrong))
        assert r.status_code == 400
        assert "The code is wrong" in r.content.decode()
    r = client.post("/citizen/submit/", form(phone=PHONE, code=code))
    assert r.status_code == 400  # five wrong tries: the code is gone
    assert not Order.objects.exists()


def test_codes_limited_per_phone(client: Client, city: City, settings: Any) -> None:
    settings.HOTLINE_PORTAL_CODES_PER_PHONE = 2
    for _ in range(2):
        assert client.post("/citizen/submit/", form(phone=PHONE, send_code="1")).status_code == 200
    r = client.post("/citizen/submit/", form(phone=PHONE, send_code="1"))
    assert r.status_code == 429 and "Too many codes" in r.content.decode()
    assert len([s for s in LOG_OUTBOX if s.purpose == "verify"]) == 2


def test_anonymous_report_keeps_no_phone(client: Client, city: City) -> None:
    r = client.post("/citizen/submit/", form(order_type="report", anonymous="on",
                                             phone=PHONE, name="张三"))
    assert r.status_code == 200, r.content.decode()[:3000]
    number = re.search(r'id="acceptance-number">(\d{8})<', r.content.decode()).group(1)  # type: ignore[union-attr]
    order = Order.objects.get(number=number)
    assert order.type == "report" and order.citizen.phone == "" and order.citizen.name == ""
    assert tokens.reply_token(number) in r.content.decode()
    assert not LOG_OUTBOX  # nothing sent to anyone


def test_anonymous_off_needs_phone(client: Client, city: City, settings: Any) -> None:
    settings.HOTLINE_PORTAL_ANONYMOUS = False
    r = client.post("/citizen/submit/", form(anonymous="on"))
    assert r.status_code == 400 and not Order.objects.exists()


def test_errors_are_summarised_and_linked(client: Client, city: City) -> None:
    r = client.post("/citizen/submit/", {"order_type": "nonsense", "district": ""})
    body = r.content.decode()
    assert r.status_code == 400
    assert 'class="error-summary"' in body and 'href="#id_text"' in body
    assert 'href="#id_district"' in body


def test_too_many_files_and_too_large(client: Client, city: City, settings: Any) -> None:
    settings.HOTLINE_PORTAL_MAX_FILES = 1
    files = [SimpleUploadedFile(f"p{i}.png", PNG, "image/png") for i in range(2)]
    r = client.post("/citizen/submit/", form(anonymous="on", uploads=files))
    assert r.status_code == 400 and "at most 1 files" in r.content.decode()
    settings.HOTLINE_MAX_ATTACHMENT_BYTES = 10
    r = client.post("/citizen/submit/", form(anonymous="on",
                                             uploads=SimpleUploadedFile("p.png", PNG)))
    assert r.status_code == 400 and "larger than" in r.content.decode()
    assert not Order.objects.exists()


def test_honeypot_refuses(client: Client, city: City) -> None:
    r = client.post("/citizen/submit/", form(anonymous="on", website="http://spam"))
    assert r.status_code == 400 and not Order.objects.exists()


def test_submissions_limited_per_address(client: Client, city: City, settings: Any) -> None:
    settings.HOTLINE_PORTAL_SUBMISSIONS_PER_ADDRESS = 1
    assert client.post("/citizen/submit/", form(anonymous="on")).status_code == 200
    r = client.post("/citizen/submit/", form(anonymous="on"))
    assert r.status_code == 429 and Order.objects.count() == 1


def _to_callback(city: City, number: str) -> Order:
    do_action(city.agent, number, "dispatch")
    do_action(city.handler, number, "sign")
    do_action(city.handler, number, "reply", {"reply": "已恢复供水，感谢监督"})
    return do_action(city.agent, number, "approve_reply", {"note": "INTERNAL-NOTE 王坐席"})


def test_timeline_by_number_and_phone_shows_only_public_steps(client: Client,
                                                              city: City) -> None:
    number = submit_verified(client)
    _to_callback(city, number)
    other = Client()
    r = other.get(f"/citizen/requests/{number}/")
    assert r.status_code == 404  # not proven in this session
    r = other.post("/citizen/follow/", {"number": number, "phone": "13900000000"})
    assert r.status_code == 404
    r = other.post("/citizen/follow/", {"number": number, "phone": PHONE})
    assert r.status_code == 302
    body = other.get(f"/citizen/requests/{number}/").content.decode()
    assert "市水务局" in body and "已恢复供水" in body
    for secret in ("INTERNAL-NOTE", "王坐席", "水务承办人", "hank", "alice"):
        assert secret not in body


def test_token_link_opens_timeline_and_forged_token_404(client: Client, city: City) -> None:
    number = submit_verified(client)
    other = Client()
    assert other.get(f"/citizen/r/{number}-000000000000/").status_code == 404
    r = other.get(f"/citizen/r/{tokens.reply_token(number)}/")
    assert r.status_code == 302
    assert other.get(r["Location"]).status_code == 200


def test_rating_closes_with_citizen_words_in_history(client: Client, city: City) -> None:
    number = submit_verified(client)
    _to_callback(city, number)
    r = client.post(f"/citizen/requests/{number}/rate/",
                    {"satisfaction": "basic", "words": "还行"})
    assert r.status_code == 302
    order = Order.objects.get(number=number)
    assert order.state == "closed" and order.satisfaction == "basic"
    event = order.events.order_by("-seq").first()
    assert event is not None and event.action == "callback" and "还行" in event.note
    assert event.actor is not None and event.actor.role == "system"
    r = client.post(f"/citizen/requests/{number}/rate/", {"satisfaction": "satisfied"})
    assert r.status_code == 409  # rated once


def test_reopen_within_window_only(client: Client, city: City, settings: Any) -> None:
    settings.HOTLINE_PORTAL_REOPEN_DAYS = 7
    number = submit_verified(client)
    _to_callback(city, number)
    client.post(f"/citizen/requests/{number}/rate/", {"satisfaction": "unsatisfied"})
    Order.objects.filter(number=number).update(
        closed_at=timezone.now() - dt.timedelta(days=8))
    r = client.post(f"/citizen/requests/{number}/reopen/", {"reason": "还是停水"})
    assert r.status_code == 409 and Order.objects.get(number=number).state == "closed"
    Order.objects.filter(number=number).update(
        closed_at=timezone.now() - dt.timedelta(days=6))
    r = client.post(f"/citizen/requests/{number}/reopen/", {"reason": "还是停水"})
    assert r.status_code == 302
    order = Order.objects.get(number=number)
    assert order.state == "handling" and order.reopen_count == 1
    assert "还是停水" in order.events.order_by("-seq").first().note  # type: ignore[union-attr]


def test_rate_requires_proof(client: Client, city: City) -> None:
    number = submit_verified(client)
    _to_callback(city, number)
    r = Client().post(f"/citizen/requests/{number}/rate/", {"satisfaction": "satisfied"})
    assert r.status_code == 404
