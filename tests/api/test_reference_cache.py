"""The API's cached look-ups (token, district, category): a change takes effect at once in the
process that made it, and within HOTLINE_REFERENCE_CACHE_SECONDS in the others."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from hotline.api.admin import ApiTokenAdmin
from hotline.api.models import ApiToken
from hotline.api.tokens import TOKENS, do_issue_token, do_revoke_token
from hotline.core import refcache
from hotline.core.roles import Role
from hotline.orders.models import Order
from tests.api.conftest import API

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"type": "complaint", "channel": "api", "title": "停水", "text": "小区停水",
        "citizen_phone": "13900002222", "district": "gulou", "category": "100101"}


def _bearer(secret: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def _create(client: Client, **changes: Any) -> Any:
    return client.post(f"{API}/orders", json.dumps({**BODY, **changes}),
                       content_type="application/json")


def test_a_busy_token_costs_no_lookup(city: City) -> None:
    _, secret = do_issue_token(city.agent, "partner")
    client = _bearer(secret)
    assert _create(client).status_code == 201
    with CaptureQueriesContext(connection) as queries:
        assert _create(client).status_code == 201
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "api_apitoken" not in sql  # last_used_at was written by the first request
    assert "directory_district" not in sql and "directory_category" not in sql


def test_a_revoked_token_is_refused_at_once(city: City) -> None:
    token, secret = do_issue_token(city.agent, "partner")
    client = _bearer(secret)
    assert client.get(f"{API}/orders").status_code == 200
    do_revoke_token(token)
    assert client.get(f"{API}/orders").status_code == 401


def test_a_token_revoked_in_the_admin_is_refused_at_once(city: City) -> None:
    token, secret = do_issue_token(city.agent, "partner")
    client = _bearer(secret)
    assert client.get(f"{API}/orders").status_code == 200
    request = RequestFactory().post("/admin/")
    request.user = city.admin
    request._messages = type("M", (), {"add": lambda *a, **k: None})()  # type: ignore[attr-defined]
    ApiTokenAdmin(ApiToken, site).revoke(request, ApiToken.objects.filter(pk=token.pk))
    assert client.get(f"{API}/orders").status_code == 401


def test_a_deleted_token_is_refused_at_once(city: City) -> None:
    token, secret = do_issue_token(city.agent, "partner")
    client = _bearer(secret)
    assert client.get(f"{API}/orders").status_code == 200
    token.delete()
    assert client.get(f"{API}/orders").status_code == 401


def test_a_deactivated_or_changed_user_takes_effect(city: City) -> None:
    _, secret = do_issue_token(city.agent, "partner")
    client = _bearer(secret)
    assert _create(client).status_code == 201
    city.agent.role = Role.AUDITOR  # auditors may not register orders
    city.agent.save()
    assert _create(client, citizen_phone="13900003333").status_code == 403
    city.agent.role = Role.AGENT
    city.agent.is_active = False
    city.agent.save()
    assert client.get(f"{API}/orders").status_code == 401


def test_another_process_sees_a_revocation_within_the_ttl(
        city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another worker's revocation reaches this process by expiry only: the row changes in the
    database without this process's signals (a queryset update), and the cached entry serves
    until HOTLINE_REFERENCE_CACHE_SECONDS have passed."""
    now = [1000.0]
    monkeypatch.setattr(refcache.time, "monotonic", lambda: now[0])
    token, secret = do_issue_token(city.agent, "partner")
    client = _bearer(secret)
    assert client.get(f"{API}/orders").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked=True)  # "in another process"
    assert client.get(f"{API}/orders").status_code == 200  # still cached here
    now[0] += 5.1
    assert client.get(f"{API}/orders").status_code == 401
    assert len(TOKENS) == 0


def test_users_are_copies(city: City) -> None:
    from hotline.api.tokens import user_for_token

    _, secret = do_issue_token(city.agent, "partner")
    first = user_for_token(secret)
    assert first is not None
    first.display_name = "changed by a request"
    again = user_for_token(secret)
    assert again is not None and again is not first and again.display_name == "王坐席"
    assert again.unit is not None and again.unit.code == "centre"


def test_a_changed_category_or_district_takes_effect_on_create(city: City) -> None:
    _, secret = do_issue_token(city.agent, "partner")
    client = _bearer(secret)
    assert _create(client).status_code == 201
    city.cat_outage.accepted_types = ["consultation"]
    city.cat_outage.save()
    r = _create(client, citizen_phone="13900004444")
    assert r.status_code == 422 and r.json()["field"] == "category"
    city.gulou.code = "gulou-old"
    city.gulou.save()
    r = _create(client, type="consultation", citizen_phone="13900005555")
    assert r.status_code == 422 and r.json()["field"] == "district"
    assert Order.objects.count() == 1
