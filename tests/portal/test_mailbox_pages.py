"""The mayor's mailbox pages with the Django client: writing a letter (SMS code, honeypot,
limits, bad input), the public list and a letter's page (anonymous, never the writer), and the
centre's withdrawal page (role checked)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from hotline.intake.mailbox import ACKNOWLEDGE_WITHIN
from hotline.intake.models import MailboxLetter, ReceivedMessage
from hotline.intake.sms.outbound import LOG_OUTBOX
from hotline.orders.models import Attachment, Order
from hotline.orders.services import do_action
from tests.portal.test_citizen_portal import PNG, last_code

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_django.fixtures import Settings

    from tests.conftest import City

PHONE = "13800138000"
WRITE = "/citizen/mailbox/write/"


@pytest.fixture(autouse=True)
def _clean(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    LOG_OUTBOX.clear()


def letter(**extra: object) -> dict[str, object]:
    data: dict[str, object] = {"title": "建议增设公交站", "district": "gulou", "name": "李四",
                               "text": "幸福路一带没有公交站，老人出行不便。我的电话13912345678。",
                               "phone": PHONE, "publish": "on"}
    data.update(extra)
    return data


def write(client: Client, **extra: object) -> str:
    """Write a letter through the form with a real SMS code; its acceptance number."""
    r = client.post(WRITE, letter(send_code="1", **extra))
    assert r.status_code == 200, r.content.decode()[:2000]
    r = client.post(WRITE, letter(code=last_code(), **extra))
    assert r.status_code == 200, r.content.decode()[:3000]
    found = re.search(r'id="acceptance-number">(\d{8})<', r.content.decode())
    assert found, r.content.decode()[:3000]
    return found.group(1)


def publish(city: City, number: str, reply: str = "已将您的建议转交公交集团研究。") -> None:
    do_action(city.agent, number, "dispatch", {"unit": "water"})
    do_action(city.handler, number, "sign")
    do_action(city.handler, number, "reply", {"reply": reply})
    do_action(city.agent, number, "approve_reply")


def test_the_write_page_is_public_and_has_every_field(client: Client, city: City) -> None:
    r = client.get(WRITE)
    body = r.content.decode()
    assert r.status_code == 200
    for name in ("title", "text", "name", "phone", "code", "email", "district", "publish",
                 "uploads", "website"):
        assert f'name="{name}"' in body, name
    assert 'value="gulou"' in body


def test_a_letter_becomes_a_mailbox_order_with_number_and_deadline(client: Client,
                                                                   city: City) -> None:
    r = client.post(WRITE, letter(send_code="1"))
    r = client.post(WRITE, letter(code=last_code(), email="lisi@example.org",
                                  uploads=SimpleUploadedFile("photo.png", PNG, "image/png")))
    body = r.content.decode()
    number = re.search(r'id="acceptance-number">(\d{8})<', body).group(1)  # type: ignore[union-attr]
    order = Order.objects.get(number=number)
    assert order.channel == "mailbox" and order.state == "accepted"
    assert order.citizen.phone == PHONE and order.citizen.name == "李四"
    assert order.district is not None and order.district.code == "gulou"
    assert order.created_by is not None and order.created_by.role == "system"
    assert Attachment.objects.filter(order=order, kind="intake").count() == 1
    letter_row = MailboxLetter.objects.get(order=order)
    assert letter_row.publish_consent is True
    record = ReceivedMessage.objects.get(order=order)
    assert record.channel == "mailbox" and record.meta["publish"] is True
    due = timezone.localtime(letter_row.received_at + ACKNOWLEDGE_WITHIN)
    assert f'id="acknowledge-by" datetime="{due.isoformat()}"' in body
    assert due.strftime("%Y-%m-%d %H:%M") in body
    sms = [s for s in LOG_OUTBOX if s.purpose == "accepted"]
    assert sms and number in sms[-1].text and sms[-1].phone == PHONE
    assert mail.outbox and number in mail.outbox[-1].body
    # The writer may follow it like any request.
    assert client.get(f"/citizen/requests/{number}/").status_code == 200


def test_consent_off_is_kept_and_never_listed(client: Client, city: City) -> None:
    number = write(client, publish="")
    assert MailboxLetter.objects.get(order__number=number).publish_consent is False
    publish(city, number)
    body = Client().get("/citizen/mailbox/").content.decode()
    assert "建议增设公交站" not in body and 'id="no-letters"' in body


def test_bad_input_gets_form_errors_not_a_crash(client: Client, city: City) -> None:
    r = client.post(WRITE, {"title": " ", "text": "", "district": "nowhere", "phone": "123",
                            "email": "not-an-email"})
    body = r.content.decode()
    assert r.status_code == 400 and 'class="error-summary"' in body
    for field in ("title", "text", "district", "phone", "email", "name"):
        assert f'href="#id_{field}"' in body, field
    r = client.post(WRITE, letter(code="000000"))
    assert r.status_code == 400 and "The code is wrong" in r.content.decode()
    assert not Order.objects.exists()


def test_honeypot_refuses(client: Client, city: City) -> None:
    r = client.post(WRITE, letter(code="123456", website="http://spam"))
    assert r.status_code == 400 and WRITE in r.content.decode()
    assert not Order.objects.exists()


def test_files_are_limited(client: Client, city: City, settings: Any) -> None:
    settings.HOTLINE_PORTAL_MAX_FILES = 1
    files = [SimpleUploadedFile(f"p{i}.png", PNG, "image/png") for i in range(2)]
    r = client.post(WRITE, letter(code="123456", uploads=files))
    assert r.status_code == 400 and "at most 1 files" in r.content.decode()
    settings.HOTLINE_MAX_ATTACHMENT_BYTES = 10
    r = client.post(WRITE, letter(code="123456", uploads=SimpleUploadedFile("p.png", PNG)))
    assert r.status_code == 400 and "larger than" in r.content.decode()
    assert not Order.objects.exists()


def test_letters_are_limited_per_address(client: Client, city: City, settings: Any) -> None:
    settings.HOTLINE_PORTAL_SUBMISSIONS_PER_ADDRESS = 1
    write(client)
    client.post(WRITE, letter(send_code="1"))
    r = client.post(WRITE, letter(code=last_code()))
    assert r.status_code == 429 and Order.objects.count() == 1


def test_codes_are_limited_per_phone(client: Client, city: City, settings: Any) -> None:
    settings.HOTLINE_PORTAL_CODES_PER_PHONE = 1
    assert client.post(WRITE, letter(send_code="1")).status_code == 200
    r = client.post(WRITE, letter(send_code="1"))
    assert r.status_code == 429 and "Too many codes" in r.content.decode()


def test_the_public_list_and_letter_page_show_no_writer(client: Client, city: City) -> None:
    number = write(client, email="lisi@example.org")
    publish(city, number, reply="李四您好，已电话13800138000联系您。")
    visitor = Client()
    r = visitor.get("/citizen/mailbox/")
    body = r.content.decode()
    assert r.status_code == 200 and "建议增设公交站" in body
    letter_id = MailboxLetter.objects.get(order__number=number).pk
    r = visitor.get(f"/citizen/mailbox/{letter_id}/")
    page = r.content.decode()
    assert r.status_code == 200 and "老人出行不便" in page and "市水务局" in page
    assert "139****5678" in page
    for secret in ("李四", PHONE, "13912345678", "lisi@example.org", number, "王坐席"):
        assert secret not in body and secret not in page, secret


def test_the_list_is_paginated_and_searchable(client: Client, city: City,
                                              settings: Any) -> None:
    settings.HOTLINE_PORTAL_SUBMISSIONS_PER_ADDRESS = 100
    for i in range(12):
        publish(city, write(Client(), title=f"第{i}号建议", phone=f"1380013{i:04d}"))
    visitor = Client()
    first = visitor.get("/citizen/mailbox/").content.decode()
    assert first.count('<li class="card">') == 10 and 'rel="next"' in first
    second = visitor.get("/citizen/mailbox/?page=2").content.decode()
    assert second.count('<li class="card">') == 2
    found = visitor.get("/citizen/mailbox/?q=第3号").content.decode()
    assert found.count('<li class="card">') == 1 and 'id="result-count"' in found
    assert visitor.get("/citizen/mailbox/?q=" + "长" * 80).status_code == 200
    assert visitor.get("/citizen/mailbox/?page=nonsense").status_code == 200


def test_an_unpublished_letter_page_is_404(client: Client, city: City) -> None:
    number = write(client)
    letter_id = MailboxLetter.objects.get(order__number=number).pk
    assert Client().get(f"/citizen/mailbox/{letter_id}/").status_code == 404
    assert Client().get("/citizen/mailbox/999999/").status_code == 404


def test_confidential_and_report_orders_are_never_shown(client: Client, city: City,
                                                        settings: Any) -> None:
    settings.HOTLINE_PORTAL_SUBMISSIONS_PER_ADDRESS = 100
    confidential = write(Client(), title="保密的信", phone="13800130001")
    report = write(Client(), title="举报的信", phone="13800130002")
    Order.objects.filter(number=confidential).update(confidential=True)
    Order.objects.filter(number=report).update(type="report")
    publish(city, confidential)
    publish(city, report)
    body = Client().get("/citizen/mailbox/").content.decode()
    assert "保密的信" not in body and "举报的信" not in body
    for number in (confidential, report):
        letter_id = MailboxLetter.objects.get(order__number=number).pk
        assert Client().get(f"/citizen/mailbox/{letter_id}/").status_code == 404


# --- the centre's withdrawal page --------------------------------------------------------

def test_a_monitor_withdraws_and_restores(client: Client, city: City) -> None:
    number = write(Client())
    publish(city, number)
    letter_id = MailboxLetter.objects.get(order__number=number).pk
    client.force_login(city.monitor)
    page = client.get("/mailbox/").content.decode()
    assert number in page and "Published" in page
    r = client.post(f"/mailbox/{letter_id}/publication/", {"action": "withdraw", "reason": ""})
    assert r.status_code == 422 and "say why" in r.content.decode()
    r = client.post(f"/mailbox/{letter_id}/publication/",
                    {"action": "withdraw", "reason": "涉及第三方隐私"})
    assert r.status_code == 302
    assert f"/citizen/mailbox/{letter_id}/" not in Client().get("/citizen/mailbox/") \
        .content.decode()
    assert "涉及第三方隐私" in client.get("/mailbox/").content.decode()
    client.post(f"/mailbox/{letter_id}/publication/", {"action": "restore"})
    assert Client().get(f"/citizen/mailbox/{letter_id}/").status_code == 200
    assert client.post("/mailbox/999999/publication/", {"action": "restore"}) \
        .status_code == 404


@pytest.mark.parametrize("who", ["agent", "handler", "dept_admin", "leader", "auditor"])
def test_others_cannot_withdraw(client: Client, city: City, who: str) -> None:
    number = write(Client())
    publish(city, number)
    letter_id = MailboxLetter.objects.get(order__number=number).pk
    client.force_login(getattr(city, who))
    assert client.get("/mailbox/").status_code == 403
    r = client.post(f"/mailbox/{letter_id}/publication/", {"reason": "x"})
    assert r.status_code == 403
    assert MailboxLetter.objects.get(pk=letter_id).withdrawn_at is None


def test_anonymous_visitors_are_sent_to_the_login(city: City) -> None:
    r = Client().get("/mailbox/")
    assert r.status_code == 302 and "/login/" in r["Location"]
