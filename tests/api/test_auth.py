"""Who may call the API: bearer tokens (revocable), sessions with CSRF, nobody else."""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from hotline.api.models import ApiToken, hash_token
from hotline.api.tokens import do_issue_token, do_revoke_token
from tests.api.conftest import API, new_order

if TYPE_CHECKING:
    from tests.conftest import City


def _bearer(secret: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/orders"), ("get", "/orders/12345678"), ("post", "/orders"),
    ("post", "/orders/12345678/dispatch"), ("get", "/categories"), ("get", "/units"),
    ("get", "/districts"), ("post", "/orders/12345678/attachments"),
    ("get", "/orders/12345678/attachments/1"),
])
def test_unauthenticated_is_401_json(db: None, method: str, path: str) -> None:
    r = getattr(Client(), method)(API + path)
    assert r.status_code == 401
    assert r["Content-Type"].startswith("application/json")
    assert r.json()["detail"]


def test_token_auth_and_revocation(city: City) -> None:
    order = new_order(city)
    token, secret = do_issue_token(city.handler, "water-system")
    assert secret.startswith("hl_") and token.key_hash == hash_token(secret)
    assert secret not in {t.key_hash for t in ApiToken.objects.all()}
    client = _bearer(secret)
    assert client.get(f"{API}/orders").status_code == 200
    # Tokens act as their user: the water department cannot see an undispatched order.
    assert client.get(f"{API}/orders/{order.number}").status_code == 404
    do_revoke_token(token)
    assert client.get(f"{API}/orders").status_code == 401


@pytest.mark.parametrize("header", [
    "Bearer", "Bearer ", "Bearer hl_wrong", "Token abc", "Bearer " + "x" * 5000, "bearer \x7f",
])
def test_bad_tokens_are_401(db: None, header: str) -> None:
    assert Client(HTTP_AUTHORIZATION=header).get(f"{API}/orders").status_code == 401


def test_inactive_users_token_is_refused(city: City) -> None:
    _token, secret = do_issue_token(city.agent)
    city.agent.is_active = False
    city.agent.save()
    assert _bearer(secret).get(f"{API}/orders").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(city: City) -> None:
    token, secret = do_issue_token(city.agent)
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        _bearer(secret).get(f"{API}/districts")
    token.refresh_from_db()
    assert token.last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=59), tick=False):
        _bearer(secret).get(f"{API}/districts")
    token.refresh_from_db()
    assert token.last_used_at == start
    later = start + dt.timedelta(seconds=61)
    with time_machine.travel(later, tick=False):
        _bearer(secret).get(f"{API}/districts")
    token.refresh_from_db()
    assert token.last_used_at == later


def test_session_posts_need_csrf(city: City) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(city.agent)
    body = {"type": "help", "title": "求助", "text": "老人走失"}
    assert client.get(f"{API}/districts").status_code == 200
    r = client.post(f"{API}/orders", body, content_type="application/json")
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    csrf = _get_new_csrf_string()
    client.cookies["csrftoken"] = csrf
    r = client.post(f"{API}/orders", body, content_type="application/json",
                    HTTP_X_CSRFTOKEN=csrf)
    assert r.status_code == 201


def test_issue_token_command_prints_a_working_token_once(city: City) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_token", "alice", "--name", "desk-tool", stdout=out, stderr=err)
    secret = out.getvalue().strip()
    assert secret.startswith("hl_")
    token = ApiToken.objects.get(user=city.agent)
    assert token.name == "desk-tool" and token.key_hash == hash_token(secret)
    assert secret not in err.getvalue()
    assert _bearer(secret).get(f"{API}/orders").status_code == 200


def test_issue_token_command_errors(city: City) -> None:
    with pytest.raises(CommandError):
        call_command("issue_token", "nobody", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError):
        call_command("issue_token", "alice", "--name", "n" * 65, stdout=io.StringIO(),
                     stderr=io.StringIO())


def test_token_posts_need_no_csrf(city: City) -> None:
    _token, secret = do_issue_token(city.agent)
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {secret}")
    r = client.post(f"{API}/orders", {"type": "help", "title": "求助", "text": "老人走失"},
                    content_type="application/json")
    assert r.status_code == 201
