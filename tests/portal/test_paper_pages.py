"""Registering a paper letter or a walk-in visit with its scans: through do_receive with the
agent as actor, the scans as attachments and in the raw payload, one order per form, bad input
as form errors, and only the desk roles reach the page."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hotline.intake.models import ReceivedMessage
from hotline.orders.models import Attachment, Contact, Order
from tests.portal.test_citizen_portal import PNG

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_django.fixtures import Settings

    from tests.conftest import City

PAGE = "/orders/letters-visits/new/"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def key(client: Client) -> str:
    found = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"',
                      client.get(PAGE).content.decode())
    assert found
    return found.group(1)


def scans() -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile("page1.png", PNG, "image/png"),
            SimpleUploadedFile("page2.pdf", PDF, "application/pdf")]


def form(client: Client, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "channel": "letter", "order_type": "complaint", "title": "来信反映停水",
        "text": "市民来信：小区停水三天无人处理。", "district": "gulou", "category": "100101",
        "address": "鼓楼区东街1号", "citizen_name": "赵六", "citizen_phone": "13700137000",
        "idempotency_key": key(client), "scans": scans()}
    data.update(extra)
    return data


def number_of(response: Any) -> str:
    found = re.search(r'id="acceptance-number" href="/orders/(\d{8})/"',
                      response.content.decode())
    assert found, response.content.decode()[:3000]
    return found.group(1)


def test_an_agent_registers_a_letter_with_its_scans(client: Client, city: City) -> None:
    client.force_login(city.agent)
    r = client.post(PAGE, form(client))
    assert r.status_code == 200
    order = Order.objects.get(number=number_of(r))
    assert order.channel == "letter" and order.type == "complaint" and order.title == "来信反映停水"
    assert order.created_by == city.agent and order.citizen.phone == "13700137000"
    assert order.category is not None and order.category.code == "100101"
    contact = Contact.objects.get(orders=order)
    assert contact.agent == city.agent and contact.channel == "letter"
    files = Attachment.objects.filter(order=order, kind="intake").order_by("pk")
    assert [f.content_type for f in files] == ["image/png", "application/pdf"]
    assert all(f.uploaded_by == city.agent for f in files)
    record = ReceivedMessage.objects.get(order=order)
    assert record.channel == "letter" and record.raw.name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(record.raw.read())) as archive:
        names = archive.namelist()
        registration = json.loads(archive.read("registration.json"))
        assert archive.read("scans/02.pdf") == PDF
    assert names == ["registration.json", "scans/01.png", "scans/02.pdf"]
    assert registration["scans"][0]["name"] == "page1.png"
    assert f'href="/orders/{order.number}/"' in r.content.decode()
    assert client.get(f"/orders/{order.number}/").status_code == 200


def test_a_walk_in_visit_needs_no_scan(client: Client, city: City) -> None:
    client.force_login(city.sub_agent)
    r = client.post(PAGE, form(client, channel="visit", scans=[]))
    order = Order.objects.get(number=number_of(r))
    assert order.channel == "visit" and order.created_by == city.sub_agent
    assert "Walk-in visit registered" in r.content.decode()


def test_the_same_form_sent_twice_registers_one_order(client: Client, city: City) -> None:
    client.force_login(city.agent)
    data = form(client)
    first = number_of(client.post(PAGE, data))
    data["scans"] = scans()
    again = client.post(PAGE, data)
    assert number_of(again) == first and Order.objects.count() == 1
    assert "already been sent" in again.content.decode()


@pytest.mark.parametrize("extra, field", [
    ({"text": ""}, "text"),
    ({"scans": []}, "scans"),  # a letter comes with its pages
    ({"address": "身份证350102199001011234住址"}, "address"),
    ({"order_type": "nonsense"}, "order_type"),
    ({"channel": "fax"}, "channel"),
    ({"idempotency_key": "not-a-key"}, "idempotency_key"),
])
def test_bad_input_is_a_form_error(client: Client, city: City, extra: dict[str, object],
                                   field: str) -> None:
    client.force_login(city.agent)
    r = client.post(PAGE, form(client, **extra))
    assert r.status_code == 422
    assert f'id="id_{field}_error"' in r.content.decode() or field == "idempotency_key"
    assert not Order.objects.exists()


def test_what_intake_refuses_lands_on_the_form(client: Client, city: City) -> None:
    client.force_login(city.agent)
    r = client.post(PAGE, form(client, citizen_phone="12"))  # not a phone number
    assert r.status_code == 422 and "phone number is not valid" in r.content.decode()
    city.cat_outage.accepted_types = ["complaint", "consultation"]
    city.cat_outage.save()
    r = client.post(PAGE, form(client, order_type="praise"))  # the category takes no praise
    assert r.status_code == 422 and "does not accept" in r.content.decode()
    assert not Order.objects.exists()


def test_scans_are_limited(client: Client, city: City, settings: Any) -> None:
    client.force_login(city.agent)
    settings.HOTLINE_MAX_ATTACHMENT_BYTES = 10
    r = client.post(PAGE, form(client))
    assert r.status_code == 422 and "larger than" in r.content.decode()
    settings.HOTLINE_MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
    settings.HOTLINE_MAX_INBOUND_BYTES = 100
    r = client.post(PAGE, form(client))
    assert r.status_code == 422 and "together are larger" in r.content.decode()
    settings.HOTLINE_MAX_INBOUND_BYTES = 30 * 1024 * 1024
    r = client.post(PAGE, form(client, scans=[SimpleUploadedFile("a.exe", b"MZ\x90\x00" * 8)]))
    assert r.status_code == 422 and "a program" in r.content.decode()
    r = client.post(PAGE, form(client, scans=[SimpleUploadedFile("a.txt", "来信".encode())]))
    assert r.status_code == 422 and "is not a scan" in r.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize("who", ["handler", "dept_admin", "street_handler", "leader",
                                 "auditor", "security_admin", "audit_admin"])
def test_departments_and_others_cannot_reach_the_page(client: Client, city: City,
                                                      who: str) -> None:
    client.force_login(getattr(city, who))
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"channel": "letter", "text": "x"}).status_code == 403
    assert not Order.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login(city: City) -> None:
    r = Client().get(PAGE)
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_the_nav_offers_the_page_to_agents_only(client: Client, city: City) -> None:
    client.force_login(city.agent)
    assert 'id="nav-paper"' in client.get("/orders/").content.decode()
    client.force_login(city.handler)
    assert 'id="nav-paper"' not in client.get("/orders/").content.decode()
