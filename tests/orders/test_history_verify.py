"""The history cannot be changed in place: the database refuses UPDATE and DELETE on events, and
``verify_history`` finds any change made after the triggers were removed."""

from __future__ import annotations

from io import StringIO
from typing import TYPE_CHECKING

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from hotline.orders.models import ImmutableError, Order, OrderEvent
from hotline.orders.services import NewOrder, do_action, do_create_order

if TYPE_CHECKING:
    from tests.conftest import City


def make_order(city: City, phone: str) -> Order:
    order, _ = do_create_order(
        city.agent,
        NewOrder(type="complaint", channel="phone", title="停水", text="小区停水",
                 category="100101", citizen_phone=phone),
    )
    do_action(city.agent, order.number, "dispatch")
    do_action(city.handler, order.number, "sign")
    return do_action(city.handler, order.number, "reply", {"reply": "已恢复供水"})


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_history", *args, stdout=out)
    return out.getvalue()


def verify_fails(*args: str) -> tuple[str, CommandError]:
    out = StringIO()
    with pytest.raises(CommandError) as info:
        call_command("verify_history", *args, stdout=out)
    return out.getvalue(), info.value


def drop_triggers() -> None:
    """Remove the append-only triggers, as an attacker with database access could. DDL is
    transactional on SQLite and PostgreSQL: the test's rollback restores them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER orders_event_no_update ON orders_orderevent")
        else:
            cursor.execute("DROP TRIGGER orders_event_no_update")
            cursor.execute("DROP TRIGGER orders_event_no_delete")


def test_clean_history_verifies(city: City) -> None:
    make_order(city, "13800000001")
    make_order(city, "13800000002")
    assert "history of 2 order(s) verified: no problems" in verify("--chunk-size", "1")


def test_edited_note_is_detected(city: City) -> None:
    tampered = make_order(city, "13800000001")
    clean = make_order(city, "13800000002")
    drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_orderevent SET note = %s WHERE order_id = %s AND seq = 4",
            ["已处理（篡改）", tampered.pk],
        )
    out, error = verify_fails()
    assert f"{tampered.number} event 4: content does not match its hash" in out
    assert clean.number not in out
    assert error.returncode == 1
    assert "1 problem(s) in 1 of 2 order(s)" in str(error)
    assert verify("--order", clean.number).startswith("history of 1 order(s) verified")
    out, _ = verify_fails("--order", tampered.number)
    assert tampered.number in out


def test_deleted_event_is_detected(city: City) -> None:
    order = make_order(city, "13800000001")
    drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM orders_orderevent WHERE order_id = %s AND seq = 2",
                       [order.pk])
    out, _ = verify_fails()
    assert f"{order.number} event 3: expected event 2" in out
    assert f"{order.number} event 3: link to previous event broken" in out


def test_state_changed_without_history_is_detected(city: City) -> None:
    order = make_order(city, "13800000001")
    Order.objects.filter(pk=order.pk).update(state="closed")
    out, _ = verify_fails()
    assert "order state 'closed' differs from history" in out


def test_unknown_order_is_an_error(city: City) -> None:
    _, error = verify_fails("--order", "00000000")
    assert "no work order 00000000" in str(error)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE orders_orderevent SET note = 'changed' WHERE order_id = %s",
        "DELETE FROM orders_orderevent WHERE order_id = %s",
    ],
)
def test_database_refuses_update_and_delete(city: City, sql: str) -> None:
    order = make_order(city, "13800000001")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute(sql, [order.pk])
    assert OrderEvent.objects.filter(order=order).count() == 4
    assert verify().startswith("history of 1 order(s) verified")


def test_queryset_update_is_refused_by_the_database(city: City) -> None:
    order = make_order(city, "13800000001")
    with pytest.raises(DatabaseError), transaction.atomic():
        OrderEvent.objects.filter(order=order).update(note="changed")
    event = OrderEvent.objects.filter(order=order).first()
    assert event is not None
    with pytest.raises(ImmutableError):
        event.save()
    with pytest.raises(ImmutableError):
        event.delete()


def problem_lines(output: str, number: str) -> list[str]:
    return sorted(line for line in output.splitlines() if line.startswith(number))


@pytest.mark.parametrize("tampering", [
    "UPDATE orders_orderevent SET data = '{}' WHERE order_id = %s AND seq = 2",
    "DELETE FROM orders_orderevent WHERE order_id = %s AND seq = 1",
    "DELETE FROM orders_orderevent WHERE order_id = %s",
    "UPDATE orders_order SET state = 'closed' WHERE id = %s",
])
def test_chunked_walk_agrees_with_verify_order(city: City, tampering: str) -> None:
    orders = [make_order(city, f"1380000000{i}") for i in range(3)]
    drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute(tampering, [orders[1].pk])
    walked, _ = verify_fails("--chunk-size", "2")
    single, _ = verify_fails("--order", orders[1].number)
    assert problem_lines(walked, orders[1].number) == problem_lines(single, orders[1].number)
    assert problem_lines(walked, orders[1].number)
    assert not problem_lines(walked, orders[0].number)
    assert not problem_lines(walked, orders[2].number)
