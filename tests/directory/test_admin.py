from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from hotline.api.models import ApiToken, hash_token
from hotline.directory.models import Unit
from hotline.orders.models import Order, OrderEvent
from hotline.orders.services import NewOrder, do_action, do_create_order

if TYPE_CHECKING:
    from django.test import Client

    from tests.conftest import City

MODELS = [
    "directory/district", "directory/unit", "directory/user", "directory/category",
    "directory/categoryroute", "directory/calendarday", "api/apitoken", "orders/citizen",
    "orders/contact", "orders/order", "orders/orderevent", "orders/attachment",
]


@pytest.fixture
def order(city: City) -> Order:
    order, _ = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="停水", text="小区停水", citizen_phone="13800000001",
        district="gulou", category="100101"))
    do_action(city.agent, order.number, "dispatch")
    return order


@pytest.fixture
def admin_client(client: Client, city: City) -> Client:
    city.admin.is_staff = True
    city.admin.save()
    client.force_login(city.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # reports are checked in English
    return client


def url(model: str, view: str = "changelist", *args: object) -> str:
    app, name = model.split("/")
    return reverse(f"admin:{app}_{name}_{view}", args=args)


def test_every_changelist_and_change_page_loads_for_centre_admin(admin_client: Client, order: Order,
                                                                 city: City) -> None:
    ApiToken.objects.create(user=city.agent, name="ops", key_hash="x" * 64)
    for model in MODELS:
        response = admin_client.get(url(model))
        assert response.status_code == 200, model
    assert admin_client.get(reverse("admin:index")).status_code == 200
    first_event = order.events.first()
    assert first_event is not None
    for model, pk in [("orders/order", order.pk), ("directory/unit", city.water.pk),
                      ("directory/category", city.cat_outage.pk), ("directory/user", city.handler.pk),
                      ("orders/orderevent", first_event.pk)]:
        assert admin_client.get(url(model, "change", pk)).status_code == 200, model
    for model in ("directory/unit", "directory/category", "directory/user",
                  "directory/calendarday", "api/apitoken"):
        assert admin_client.get(url(model, "add")).status_code == 200, model


@pytest.mark.parametrize("who", ["handler", "dept_admin", "agent", "leader"])
def test_others_are_refused_even_with_is_staff(client: Client, city: City, who: str) -> None:
    user = getattr(city, who)
    user.is_staff = True  # a mistaken tick must not open the admin to them
    user.save()
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.get(url("directory/unit"))
    assert response.status_code == 302
    response = client.get(reverse("admin:directory_unit_import"))
    assert response.status_code == 302


def test_centre_admin_without_is_staff_is_refused(client: Client, city: City) -> None:
    client.force_login(city.admin)
    assert client.get(reverse("admin:index")).status_code == 302


def test_order_history_cannot_be_changed_or_deleted(admin_client: Client, order: Order) -> None:
    event = order.events.first()
    assert event is not None
    model_admin = admin.site._registry[OrderEvent]
    request = admin_client.get(url("orders/orderevent")).wsgi_request
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert admin_client.get(url("orders/orderevent", "delete", event.pk)).status_code == 403
    assert admin_client.get(url("orders/orderevent", "add")).status_code == 403
    response = admin_client.post(url("orders/orderevent", "change", event.pk),
                                 {"note": "rewritten", "to_state": "closed"})
    assert response.status_code == 403
    response = admin_client.post(url("orders/orderevent"),
                                 {"action": "delete_selected", "_selected_action": [event.pk]})
    event.refresh_from_db()
    assert event.note == "" and OrderEvent.objects.filter(pk=event.pk).exists()
    # orders themselves are not edited in the admin either: state changes go through services
    response = admin_client.post(url("orders/order", "change", order.pk), {"state": "closed"})
    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).state == "dispatched"
    assert admin_client.get(url("orders/order", "delete", order.pk)).status_code == 403


def test_token_is_shown_once_and_revoked(admin_client: Client, city: City) -> None:
    response = admin_client.post(url("api/apitoken", "add"),
                                 {"user": city.handler.pk, "name": "水务系统"}, follow=True)
    assert response.status_code == 200
    token = ApiToken.objects.get(name="水务系统")
    shown = " ".join(str(m) for m in response.context["messages"])
    found = re.search(r"hl_[A-Za-z0-9_-]+", shown)
    assert found is not None
    secret = found.group(0)
    assert hash_token(secret) == token.key_hash and secret.startswith("hl_")
    admin_client.post(url("api/apitoken"), {"action": "revoke",
                                             "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked


def test_import_view_shows_report_and_export_downloads(admin_client: Client, city: City) -> None:
    wb = Workbook()
    sheet = wb.active
    sheet.title = "units"
    sheet.append(["code", "name", "kind", "parent"])
    sheet.append(["edu", "市教育局", "部门", "centre"])
    sheet.append(["bad", "坏单位", "部门", "nowhere"])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "units.xlsx"
    assert admin_client.get(reverse("admin:directory_unit_import")).status_code == 200
    response = admin_client.post(reverse("admin:directory_unit_import"), {"file": buf})
    assert response.status_code == 200
    body = response.content.decode()
    assert "unknown parent unit nowhere" in body
    assert Unit.objects.filter(code="edu").exists()
    response = admin_client.post(reverse("admin:directory_unit_import"),
                                 {"file": io.BytesIO(b"junk")})
    assert response.status_code == 422 and not response.context["report"]
    response = admin_client.get(reverse("admin:directory_unit_export"))
    assert response.status_code == 200
    exported = load_workbook(io.BytesIO(response.content))
    assert "edu" in [r[0] for r in exported["units"].iter_rows(values_only=True)]
    # The export is in the access log (等保: every export recorded).
    from hotline.orders.models import AccessKind, AccessLog

    logged = AccessLog.objects.get(kind=AccessKind.EXPORT)
    assert "directory" in logged.detail and logged.path.endswith("/export/")


def test_department_account_loses_is_staff_when_saved(admin_client: Client, city: City) -> None:
    data = {
        "username": city.handler.username, "role": "dept_handler", "unit": city.water.pk,
        "display_name": "水务承办人", "extension": "8001", "is_active": "on", "is_staff": "on",
        "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00",
    }
    response = admin_client.post(url("directory/user", "change", city.handler.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    city.handler.refresh_from_db()
    assert city.handler.extension == "8001" and not city.handler.is_staff


def test_category_with_routes_and_calendar_day_saved_through_admin(admin_client: Client, city: City) -> None:
    from hotline.directory.models import CalendarDay, Category, CategoryRoute

    prefix = "routes"
    data = {
        "code": "100102", "name": "水质", "level": "3", "parent": city.cat_water.pk,
        "accepted_types": ["complaint", "consultation"], "sign_limit_hours": "4",
        "handle_limit_days": "5", "keywords": "", "active": "on",
        f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-district": "", f"{prefix}-0-lead_unit": city.water.pk,
        f"{prefix}-0-co_units": [city.env.pk],
    }
    response = admin_client.post(url("directory/category", "add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    category = Category.objects.get(code="100102")
    assert category.accepted_types == ["complaint", "consultation"]
    route = CategoryRoute.objects.get(category=category)
    assert route.lead_unit == city.water and list(route.co_units.all()) == [city.env]
    response = admin_client.post(url("directory/calendarday", "add"),
                                 {"date": "2027-02-06", "is_workday": "on", "note": "调休上班"})
    assert response.status_code == 302
    assert CalendarDay.objects.get(note="调休上班").is_workday
