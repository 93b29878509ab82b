"""The growing-table index: new rows above the highest indexed id, late commits below it, and a
catch-up that never fails the search it runs before."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import pytest
from django.db import DatabaseError

from hotline.orders.search import ORDERS
from hotline.search.backends import SqliteFts5Backend, backend
from tests.orders.test_search import new_order

if TYPE_CHECKING:
    from hotline.search.backends import IndexSpec
    from tests.conftest import City

pytestmark = pytest.mark.django_db(transaction=False)


def test_new_rows_are_indexed_once_in_batches(city: City) -> None:
    orders = [new_order(city, title=f"停水{n}") for n in range(5)]
    assert ORDERS.index_new(batch=2, max_batches=1) == 2
    assert ORDERS.index_new(batch=2) == 3
    assert ORDERS.index_new() == 0
    assert backend().ids_between(ORDERS.spec, 0, orders[-1].pk) == {o.pk for o in orders}


def test_a_late_commit_below_the_highest_indexed_id_is_found(city: City) -> None:
    first, second = new_order(city), new_order(city)
    ORDERS.index(type(second).objects.filter(pk=second.pk))
    assert ORDERS.index_new(look_back=False) == 0  # only above the highest indexed id
    assert ORDERS.index_new() == 1
    assert backend().ids_between(ORDERS.spec, 0, second.pk) == {first.pk, second.pk}


def test_a_failing_catch_up_returns_none_instead_of_raising(city: City, monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    order = new_order(city)
    assert ORDERS.catch_up_quietly() == order.pk
    assert ORDERS.catch_up_quietly() == order.pk  # nothing new: the highest indexed id

    def broken(self: object, spec: IndexSpec) -> NoReturn:
        raise DatabaseError("locked")

    def missing(self: object, spec: IndexSpec) -> str:
        return "SELECT max(id) FROM no_such_index_table"  # the database raises

    monkeypatch.setattr(type(backend()), "max_id", broken)
    monkeypatch.setattr(SqliteFts5Backend, "max_id", broken)
    monkeypatch.setattr(type(backend()), "max_id_sql", missing)
    assert ORDERS.catch_up_quietly() is None
    assert "catch-up skipped" in caplog.text
