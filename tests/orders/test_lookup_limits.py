"""The look-up failure counters (finding 4c of issue 10): per address, per acceptance number
and per phone, in fixed windows, in a cache every process shares (the database or Redis)."""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING

import pytest
from django.core.cache import cache, caches
from django.core.management import call_command
from django.db import connection, connections

from hotline.orders import lookup_limits
from hotline.orders.lookup_limits import Counter, TooManyAttempts
from hotline.orders.numbering import damm_digit

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytest_django.fixtures import Settings

WINDOW_START = 1_800_000_000.0  # a window boundary for 900-second windows (2_000_000 * 900)


def number(n: int) -> str:
    body = f"{n:07d}"
    return body + str(damm_digit(body))


def phone(n: int) -> str:
    return f"1390000{n:04d}"


@pytest.fixture(autouse=True)
def _limits(settings: Settings) -> Iterator[None]:
    settings.HOTLINE_LOOKUP_WINDOW_SECONDS = 900
    settings.HOTLINE_LOOKUP_FAILURES_PER_ADDRESS = 10
    settings.HOTLINE_LOOKUP_FAILURES_PER_NUMBER = 5
    settings.HOTLINE_LOOKUP_FAILURES_PER_PHONE = 8
    cache.clear()
    yield
    cache.clear()


def fail(address: str, num: str, tel: str, now: float = WINDOW_START + 10) -> None:
    lookup_limits.begin(address, num, tel, now=now)  # never told it succeeded: a failure


def test_address_is_limited_with_fresh_numbers_and_phones() -> None:
    for n in range(10):
        fail("203.0.113.5", number(n), phone(n))
    with pytest.raises(TooManyAttempts) as refused:
        fail("203.0.113.5", number(99), phone(99))
    assert refused.value.status == 429 and refused.value.retry_after == 900 - 10
    fail("203.0.113.6", number(99), phone(99))  # another address is not affected


def test_number_is_limited_across_addresses_and_phones() -> None:
    target = number(4242)
    for n in range(5):
        fail(f"198.51.100.{n}", target, phone(n))
    with pytest.raises(TooManyAttempts):
        fail("198.51.100.200", target, phone(200))
    fail("198.51.100.200", number(4243), phone(201))


def test_phone_is_limited_across_addresses_and_numbers() -> None:
    for n in range(8):
        fail(f"192.0.2.{n}", number(n), "13812341234")
    with pytest.raises(TooManyAttempts):
        fail("192.0.2.100", number(100), "+86 138-1234-1234")  # the same phone, written otherwise


def test_a_success_is_not_a_failure_and_a_refusal_counts_nothing() -> None:
    for n in range(20):
        attempt = lookup_limits.begin("203.0.113.9", number(7), "13812341234",
                                      now=WINDOW_START + n)
        lookup_limits.succeeded(attempt)
    assert lookup_limits.failures(Counter.ADDRESS, "203.0.113.9", now=WINDOW_START) == 0
    for n in range(5):
        fail("203.0.113.9", number(7), phone(n))
    for _ in range(3):
        with pytest.raises(TooManyAttempts):
            fail("203.0.113.9", number(7), phone(50))
    assert lookup_limits.failures(Counter.NUMBER, number(7), now=WINDOW_START) == 5
    assert lookup_limits.failures(Counter.ADDRESS, "203.0.113.9", now=WINDOW_START) == 5
    assert lookup_limits.failures(Counter.PHONE, phone(50), now=WINDOW_START) == 0


def test_windows_are_fixed_and_a_new_one_starts_clean() -> None:
    for n in range(10):
        fail("203.0.113.5", number(n), phone(n), now=WINDOW_START + 899)
    with pytest.raises(TooManyAttempts) as refused:
        fail("203.0.113.5", number(50), phone(50), now=WINDOW_START + 899.5)
    assert refused.value.retry_after == 1
    fail("203.0.113.5", number(51), phone(51), now=WINDOW_START + 900)


def test_ipv6_clients_are_counted_by_their_slash_64() -> None:
    for n in range(10):
        fail(f"2001:db8:1:2::{n + 1:x}", number(n), phone(n))
    with pytest.raises(TooManyAttempts):
        fail("2001:db8:1:2:ffff::1", number(60), phone(60))
    fail("2001:db8:1:3::1", number(61), phone(61))
    assert lookup_limits.address_key("::ffff:203.0.113.5") == "203.0.113.5"


def test_mistyped_numbers_and_empty_phones_are_counted_per_address_only() -> None:
    assert [c for c, _ in lookup_limits._counted("203.0.113.5", "12345678", "")] == [
        Counter.ADDRESS]


def test_keys_do_not_hold_the_phone_number() -> None:
    fail("203.0.113.5", number(1), "13812341234")
    key = lookup_limits._key(Counter.PHONE, "13812341234", int((WINDOW_START + 10) // 900))
    assert "13812341234" not in key and cache.get(key) == 1


# --- the shared caches ---------------------------------------------------------------------

def _use_database_cache(settings: Settings) -> None:
    settings.CACHES = {"default": {
        "BACKEND": "hotline.core.cache.DatabaseCache", "LOCATION": "hotline_cache_test",
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    }}
    call_command("createcachetable", verbosity=0)


def test_the_default_cache_is_the_database_and_redis_is_chosen_by_url() -> None:
    import subprocess
    import sys

    code = ("import json, hotline.settings as s; print(json.dumps(s.CACHES['default']))")
    env = {"HOTLINE_ALLOW_DEV_SECRET": "1", "PATH": "/usr/bin:/bin"}
    default = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout
    assert '"hotline.core.cache.DatabaseCache"' in default
    redis = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={**env, "HOTLINE_CACHE_URL": "redis://127.0.0.1:6379/3"},
                           check=True).stdout
    assert '"django.core.cache.backends.redis.RedisCache"' in redis and "6379/3" in redis


@pytest.mark.django_db
def test_database_cache_counts_and_limits(settings: Settings) -> None:
    _use_database_cache(settings)
    for n in range(5):
        fail(f"198.51.100.{n}", number(31), phone(n))
    with pytest.raises(TooManyAttempts):
        fail("198.51.100.99", number(31), phone(99))
    assert lookup_limits.failures(Counter.NUMBER, number(31), now=WINDOW_START) == 5


@pytest.mark.django_db
def test_database_cache_incr_keeps_the_expiry(settings: Settings) -> None:
    # Django's own DatabaseCache.incr re-sets the value with the default timeout (300 s), so
    # a window's counter would vanish after five minutes of quiet.
    _use_database_cache(settings)
    db_cache = caches["default"]
    db_cache.set("k", 1, timeout=3600)
    with connection.cursor() as cursor:
        cursor.execute("SELECT expires FROM hotline_cache_test")
        (before,) = cursor.fetchone()
    assert db_cache.incr("k", 4) == 5 and db_cache.decr("k") == 4
    with connection.cursor() as cursor:
        cursor.execute("SELECT expires FROM hotline_cache_test")
        (after,) = cursor.fetchone()
    assert after == before and db_cache.get("k") == 4
    with pytest.raises(ValueError):
        db_cache.incr("missing")


@pytest.mark.django_db(transaction=True)
def test_database_cache_counts_parallel_failures_exactly(settings: Settings) -> None:
    """Twelve look-ups of one number at once from twelve addresses, limit five: exactly five
    are let through, however the threads interleave (each on its own database connection)."""
    _use_database_cache(settings)
    refused: list[int] = []
    passed: list[int] = []
    barrier = threading.Barrier(12)

    def look_up(n: int) -> None:
        try:
            barrier.wait()
            fail(f"198.51.100.{n}", number(77), phone(n))
            passed.append(n)
        except TooManyAttempts:
            refused.append(n)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=look_up, args=(n,)) for n in range(12)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(passed) == 5 and len(refused) == 7
        assert lookup_limits.failures(Counter.NUMBER, number(77), now=WINDOW_START) == 5
    finally:
        caches["default"].clear()  # the table outlives a transactional test; its rows must not


def test_redis_counts_limits_and_expires_with_the_window(settings: Settings) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=0)
    try:
        client.ping()
    except redis.ConnectionError:  # pragma: no cover - the machine runs Redis
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"hotline-test-{uuid.uuid4().hex}"
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/0", "KEY_PREFIX": prefix,
    }}
    try:
        for n in range(8):
            fail(f"192.0.2.{n}", number(n), "13812341234", now=WINDOW_START + 600)
        with pytest.raises(TooManyAttempts) as refused:
            fail("192.0.2.200", number(200), "13812341234", now=WINDOW_START + 600)
        assert refused.value.retry_after == 300
        keys = client.keys(f"{prefix}:*")
        assert keys and all(b"13812341234" not in key for key in keys)
        phone_keys = [key for key in keys if b":phone:" in key]
        assert len(phone_keys) == 1 and client.get(phone_keys[0]) == b"8"
        # Expires with its window (plus a second), not later.
        assert 0 < client.ttl(phone_keys[0]) <= 301
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
