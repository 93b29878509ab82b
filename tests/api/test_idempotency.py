"""POST /orders with an Idempotency-Key: retries never create a second order."""

from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connection
from django.test import Client

from hotline.api.tokens import do_issue_token
from hotline.orders import services
from hotline.orders.models import Citizen, IdempotencyKey, Order
from tests.api.conftest import API, ApiClient

if TYPE_CHECKING:
    from tests.conftest import City

BODY = {"type": "consultation", "title": "公积金提取", "text": "怎么提取公积金",
        "citizen_phone": "13900001111"}


def test_replay_returns_the_same_order_with_200(city: City) -> None:
    client = ApiClient(city.agent)
    first = client.post("/orders", BODY, HTTP_IDEMPOTENCY_KEY="retry-1")
    again = client.post("/orders", BODY, HTTP_IDEMPOTENCY_KEY="retry-1")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["number"] == first.json()["number"]
    assert again["Idempotency-Replayed"] == "true" and "Idempotency-Replayed" not in first
    assert Order.objects.count() == 1


def test_same_key_different_body_is_409(city: City) -> None:
    client = ApiClient(city.agent)
    assert client.post("/orders", BODY, HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    r = client.post("/orders", {**BODY, "text": "另一件事"}, HTTP_IDEMPOTENCY_KEY="k")
    assert r.status_code == 409 and r.json()["field"] == "Idempotency-Key"
    assert Order.objects.count() == 1


def test_without_key_every_post_creates(city: City) -> None:
    client = ApiClient(city.agent)
    numbers = {client.post("/orders", BODY).json()["number"] for _ in range(2)}
    assert len(numbers) == 2


def test_keys_belong_to_one_user(city: City) -> None:
    ApiClient(city.agent).post("/orders", BODY, HTTP_IDEMPOTENCY_KEY="shared")
    r = ApiClient(city.monitor).post("/orders", BODY, HTTP_IDEMPOTENCY_KEY="shared")
    assert r.status_code == 201
    assert Order.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 129, "with space", "中文"])
def test_bad_keys_are_422(city: City, key: str) -> None:
    r = ApiClient(city.agent).post("/orders", BODY, HTTP_IDEMPOTENCY_KEY=key)
    assert r.status_code == 422 and r.json()["field"] == "Idempotency-Key"
    assert Order.objects.count() == 0


def test_lost_race_returns_the_winners_order(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race on any database: both requests looked for the key before either wrote it; the
    loser's insert of the key fails, its order is rolled back, and it answers with the winner's."""
    client = ApiClient(city.agent)
    winner = client.post("/orders", BODY, HTTP_IDEMPOTENCY_KEY="race").json()["number"]
    real = services._replayed
    calls: list[str] = []

    def missed_first_time(*args: Any, **kwargs: Any) -> Any:
        calls.append("lookup")
        return None if len(calls) == 1 else real(*args, **kwargs)

    if connection.vendor == "postgresql":
        # PostgreSQL looks the key up in the statement before the create: it misses there.
        real_before = services.look_up_before_create

        def before_the_winner(*args: Any, **kwargs: Any) -> Any:
            calls.append("lookup")
            found = real_before(*args, **kwargs)
            return dataclasses.replace(found, key_hash=None, key_order_id=None,
                                       counter=services.next_counter())

        def looked_again(*args: Any, **kwargs: Any) -> Any:
            calls.append("lookup")
            return real(*args, **kwargs)

        monkeypatch.setattr(services, "look_up_before_create", before_the_winner)
        monkeypatch.setattr(services, "_replayed", looked_again)
    else:
        monkeypatch.setattr(services, "_replayed", missed_first_time)
    r = client.post("/orders", BODY, HTTP_IDEMPOTENCY_KEY="race")
    assert calls == ["lookup", "lookup"]
    assert r.status_code == 200 and r.json()["number"] == winner
    assert Order.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_exactly_one_order(city: City) -> None:
    """Two clients post the same key at the same moment (on PostgreSQL truly in parallel; on
    SQLite the database's write lock serialises them). Exactly one order exists afterwards and
    both clients get its number."""
    if connection.vendor != "postgresql":
        # SQLite's shared in-memory test database answers concurrent writers with "table is
        # locked" instead of waiting; test_lost_race_returns_the_winners_order covers the path.
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")
    _token, secret = do_issue_token(city.system, "partner")
    barrier = threading.Barrier(2)
    results: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
            barrier.wait(timeout=10)
            r = client.post(f"{API}/orders", BODY, content_type="application/json",
                            HTTP_IDEMPOTENCY_KEY="same-call-123")
            results.append((r.status_code, r.json().get("number", r.content.decode())))
        except BaseException as exc:  # reported below; a thread must not swallow failures
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert sorted(status for status, _ in results) == [200, 201], results
    assert len({number for _, number in results}) == 1
    assert Order.objects.count() == 1
    assert IdempotencyKey.objects.filter(key="same-call-123").count() == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_creates_each_get_their_own_order(city: City) -> None:
    """Eight threads create at once, each twice with the same key (a client's retry), several
    of them for the same new caller: every first post answers 201 with an order of its own,
    every retry 200 with that order, one order per key, one citizen per phone."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")
    _token, secret = do_issue_token(city.agent, "partner")
    barrier = threading.Barrier(8)
    results: dict[int, list[tuple[int, str]]] = {}
    errors: list[BaseException] = []

    def post(n: int) -> None:
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
            body = {**BODY, "title": f"公积金提取 {n}", "citizen_phone": f"1390000{n % 3:04d}"}
            barrier.wait(timeout=10)
            answers = []
            for _ in range(2):
                r = client.post(f"{API}/orders", body, content_type="application/json",
                                HTTP_IDEMPOTENCY_KEY=f"parallel-{n}")
                answers.append((r.status_code, r.json().get("number", r.content.decode())))
            results[n] = answers
        except BaseException as exc:  # reported below; a thread must not swallow failures
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(results) == list(range(8))
    for n, ((first, number), (again, replayed)) in results.items():
        assert (first, again) == (201, 200), results[n]
        assert replayed == number
        order = Order.objects.get(number=number)
        assert order.title == f"公积金提取 {n}"
        assert order.citizen.phone == f"1390000{n % 3:04d}"
        assert IdempotencyKey.objects.get(key=f"parallel-{n}").order_id == order.pk
    assert len({number for answers in results.values() for _, number in answers}) == 8
    assert Order.objects.count() == 8
    assert Citizen.objects.filter(phone__startswith="1390000").count() == 3
