"""An order on paper: the print view (masked per role, the 举报 reporter hidden from
departments, scope kept) and the assignment letter PDF from the centre's editable template."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from hotline.directory.models import User
from hotline.orders.models import AccessKind, AccessLog, Order
from hotline.orders.services import do_action
from hotline.portal.models import LetterTemplate
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(city: City) -> Order:
    return do_action(city.agent, new_order(
        city, type="report", title="供水站乱收费", text="供水站向居民乱收费",
        citizen_phone="13700009999", citizen_name="王五").number, "dispatch")


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF")
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(content)).pages)


def compact(text: str) -> str:
    return "".join(text.split())


def test_print_view_has_the_order_and_its_history(
        city: City, login: Callable[[User], Client], dispatched: Order) -> None:
    response = login(city.agent).get(reverse("portal:order_print", args=[dispatched.number]))
    html = response.content.decode()
    assert response.status_code == 200
    assert dispatched.number in html and "鼓楼区某小区停水三天" in html
    assert "张三" in html and "13812341234" in html
    assert "Dispatch" in html and "市水务局" in html  # the history with its target
    assert "portal/print.css" in html and "data-print" in html
    assert 'id="letter-link"' in html
    assert AccessLog.objects.filter(kind=AccessKind.CITIZEN_VIEW, detail="print view",
                                    order_number=dispatched.number).exists()


def test_print_view_masks_per_role_and_keeps_scope(
        city: City, login: Callable[[User], Client], dispatched: Order, report: Order) -> None:
    leader = login(city.leader).get(reverse("portal:order_print", args=[dispatched.number]))
    assert "138****1234" in leader.content.decode()
    assert "13812341234" not in leader.content.decode()
    handler = login(city.handler)
    html = handler.get(reverse("portal:order_print", args=[report.number])).content.decode()
    assert "供水站向居民乱收费" in html
    assert "王五" not in html and "13700009999" not in html and "9999" not in html
    assert "identity is withheld" in html
    other = login(city.env_handler)
    assert other.get(reverse("portal:order_print", args=[dispatched.number])).status_code == 404
    assert other.get(reverse("portal:order_letter", args=[dispatched.number])).status_code == 404


def test_the_assignment_letter_pdf(city: City, login: Callable[[User], Client],
                                   dispatched: Order) -> None:
    response = login(city.agent).get(reverse("portal:order_letter", args=[dispatched.number]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="jiaobandan-{dispatched.number}.pdf"')
    text = compact(pdf_text(response.content))
    assert "12345政务服务便民热线交办单" in text
    assert dispatched.number in text and "市水务局" in text and "市住建局" in text  # lead, co
    assert "停水三天" in text and "张三" in text and "13812341234" in text
    assert "市12345热线中心" in text  # the centre's signature
    dispatched.refresh_from_db()
    assert dispatched.handle_due is not None
    assert dispatched.handle_due.astimezone().strftime("%Y-%m-%d") in text or \
        f"{dispatched.handle_due:%Y-%m}" in text
    assert AccessLog.objects.filter(kind=AccessKind.CITIZEN_VIEW, detail="assignment letter")


def test_the_letter_never_names_a_reporter(city: City, login: Callable[[User], Client],
                                           report: Order) -> None:
    # Whoever prints it (here the centre, who may know the reporter): it goes to a department.
    response = login(city.agent).get(reverse("portal:order_letter", args=[report.number]))
    text = compact(pdf_text(response.content))
    assert report.number in text and "依规保密" in text
    assert "王五" not in text and "13700009999" not in text
    assert "王五" not in response["Content-Disposition"]


def test_a_letter_needs_a_dispatched_order(city: City, login: Callable[[User], Client],
                                           order: Order) -> None:
    response = login(city.agent).get(reverse("portal:order_letter", args=[order.number]))
    assert response.status_code == 409
    assert "has not been dispatched" in response.content.decode()


def test_the_centre_edits_the_template(city: City, login: Callable[[User], Client],
                                       dispatched: Order) -> None:
    LetterTemplate.objects.create(name="公函", heading="关于办理{number}号诉求的函",
                                  body="{unit}：\n\n请于{deadline}前办结。\n\n地址：{address}",
                                  signature="{centre}")
    response = login(city.handler).get(reverse("portal:order_letter", args=[dispatched.number]))
    text = compact(pdf_text(response.content))
    assert f"关于办理{dispatched.number}号诉求的函" in text and "请于" in text
    assert "交办单" not in text
    with pytest.raises(ValidationError, match="Unknown placeholders: citizen_id"):
        LetterTemplate(name="x", heading="h", body="{citizen_id}").full_clean()
    with pytest.raises(ValidationError, match="Unknown placeholders: text:>99"):
        LetterTemplate(name="x", heading="h", body="{text:>99}").full_clean()


def test_the_template_is_in_the_admin_for_the_centre_admin(
        city: City, login: Callable[[User], Client]) -> None:
    city.admin.is_staff = True
    city.admin.save()
    client = login(city.admin)
    assert client.get("/admin/portal/lettertemplate/add/").status_code == 200
    handler = login(city.handler)
    assert handler.get("/admin/portal/lettertemplate/add/").status_code in (302, 403)
