"""Acceptance numbers: a keyed permutation of the counter (finding 4b of issue 10).

The numbers used to come from an affine permutation with its constants in the source, so the
number of the next order could be computed from one's own: ``_affine`` below is that scheme,
kept here to show that it was predictable and that numbers it issued are never issued again.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.demo.bulk import load_orders
from hotline.orders import numbering
from hotline.orders.models import NumberCounter, Order
from hotline.orders.services import PG_SEQUENCE, NewOrder, do_create_order, number_key

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

    from tests.conftest import City

KEY = b"a fixed key for the tests, 32 b."
OTHER_KEY = b"another fixed key for the tests!"
SPACE = numbering.PAYLOAD_SPACE


def _affine(counter: int) -> str:
    """The scheme issued before the keyed one (constants 7,368,787 and 1,234,567)."""
    body = f"{(counter * 7_368_787 + 1_234_567) % SPACE:07d}"
    return body + str(numbering.damm_digit(body))


@given(st.integers(min_value=1, max_value=SPACE))
@settings(max_examples=2000)
def test_every_counter_has_a_valid_number_and_comes_back(counter: int) -> None:
    payload = numbering.payload_for(counter, KEY)
    assert 0 <= payload < SPACE
    assert numbering.counter_for(payload, KEY) == counter
    number = numbering.number_for(counter, KEY)
    assert len(number) == 8 and numbering.is_valid(number)
    assert number[:7] == f"{payload:07d}"


@given(st.integers(min_value=0, max_value=SPACE - 1))
@settings(max_examples=2000)
def test_every_payload_has_exactly_one_counter(payload: int) -> None:
    # counter_for is total on the domain and payload_for undoes it: a bijection of the domain.
    counter = numbering.counter_for(payload, KEY)
    assert 1 <= counter <= SPACE
    assert numbering.payload_for(counter, KEY) == payload


def test_a_block_of_counters_gets_distinct_numbers() -> None:
    numbers = {numbering.number_for(c, KEY) for c in range(1, 50_001)}
    assert len(numbers) == 50_000
    top = {numbering.number_for(c, KEY) for c in range(SPACE - 5_000, SPACE + 1)}
    assert len(top) == 5_001 and not numbers & top


@given(st.integers(min_value=1, max_value=SPACE), st.integers(min_value=1, max_value=SPACE))
def test_distinct_counters_never_share_a_number(a: int, b: int) -> None:
    if a != b:
        assert numbering.number_for(a, KEY) != numbering.number_for(b, KEY)


def test_different_keys_give_different_sequences() -> None:
    ours = [numbering.number_for(c, KEY) for c in range(1, 1001)]
    theirs = [numbering.number_for(c, OTHER_KEY) for c in range(1, 1001)]
    assert sum(a == b for a, b in zip(ours, theirs, strict=True)) < 5


def test_neighbours_cannot_be_computed_from_ones_own_number() -> None:
    # The affine scheme: every next number was the last one plus a fixed step.
    steps = {int(_affine(c + 1)[:7]) - int(_affine(c)[:7]) for c in range(1, 1000)}
    assert len(steps) <= 2  # the step, and the step minus 10**7 when it wraps
    # The keyed one: no fixed step, no fixed ratio, and about as many distinct steps as pairs.
    payloads = [numbering.payload_for(c, KEY) for c in range(1, 1001)]
    steps = {(b - a) % SPACE for a, b in itertools.pairwise(payloads)}
    assert len(steps) > 990
    # Knowing a run of numbers says nothing about where the next one is: its payloads are
    # spread over the whole space, not clustered near the previous.
    assert max(payloads) - min(payloads) > SPACE * 0.9


def test_check_digit_catches_every_single_typo_and_adjacent_swap() -> None:
    number = numbering.number_for(4242, KEY)
    assert numbering.is_valid(number)
    for position in range(8):
        for digit in "0123456789":
            if digit != number[position]:
                typo = number[:position] + digit + number[position + 1:]
                assert not numbering.is_valid(typo)
    for position in range(7):
        a, b = number[position], number[position + 1]
        if a != b:
            swapped = number[:position] + b + a + number[position + 2:]
            assert not numbering.is_valid(swapped)


@pytest.mark.parametrize("counter", [0, -1, SPACE + 1])
def test_counter_outside_the_domain_is_refused(counter: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        numbering.number_for(counter, KEY)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        numbering.number_for(1, b"short")


def test_key_comes_from_the_settings_or_the_secret_key(settings: Settings) -> None:
    settings.HOTLINE_NUMBER_KEY = "k" * 40
    assert number_key() == b"k" * 40
    settings.HOTLINE_NUMBER_KEY = ""
    settings.SECRET_KEY = "one secret key " * 4
    derived = number_key()
    assert len(derived) == 32 and settings.SECRET_KEY.encode() not in derived
    settings.SECRET_KEY = "another secret key " * 4
    assert number_key() != derived


# --- issuing: numbers of the old scheme are never issued again ----------------------------

def _next_counter_will_be(value: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(%s, %s)", [PG_SEQUENCE, value - 1])
    else:
        NumberCounter.objects.update_or_create(name="order", defaults={"value": value - 1})


def _new_order(city: City, phone: str = "13812341234") -> Order:
    order, _ = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="停水", text="停水三天", citizen_phone=phone))
    return order


def _legacy_order_holding(city: City, number: str) -> Order:
    """An order numbered by the affine scheme, before the keyed one was introduced."""
    order = _new_order(city, phone="13900001111")
    Order.objects.filter(pk=order.pk).update(number=number)
    return Order.objects.get(pk=order.pk)


@pytest.mark.django_db
def test_orders_get_the_keyed_number_of_their_counter(city: City) -> None:
    _next_counter_will_be(777)
    key = number_key()
    assert _new_order(city).number == numbering.number_for(777, key)
    assert _new_order(city).number == numbering.number_for(778, key)


@pytest.mark.django_db
def test_a_number_the_affine_scheme_issued_is_skipped(city: City) -> None:
    key = number_key()
    legacy = _affine(12)  # issued years ago to the twelfth order
    # The keyed counter value whose number is exactly that one: its turn comes next.
    clashing = numbering.counter_for(int(legacy[:7]), key)
    assert clashing < SPACE
    _legacy_order_holding(city, legacy)
    _next_counter_will_be(clashing)
    order = _new_order(city)
    assert order.number != legacy
    assert order.number == numbering.number_for(clashing + 1, key)
    assert Order.objects.filter(number=legacy).count() == 1


@pytest.mark.django_db
def test_bulk_loading_skips_numbers_already_issued(city: City) -> None:
    key = number_key()
    legacy = _affine(99)
    clashing = numbering.counter_for(int(legacy[:7]), key)
    assert clashing < SPACE - 10
    _legacy_order_holding(city, legacy)
    _next_counter_will_be(clashing - 2)  # the batch's third counter value clashes
    load_orders(6, batch_size=6, seed=3)
    loaded = list(Order.objects.exclude(number=legacy).values_list("number", flat=True))
    assert Order.objects.filter(number=legacy).count() == 1
    expected = {numbering.number_for(c, key) for c in range(clashing - 2, clashing + 5)}
    expected.discard(numbering.number_for(clashing, key))
    assert set(loaded) == expected
    assert all(numbering.is_valid(n) for n in loaded)
