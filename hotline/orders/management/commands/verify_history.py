"""``manage.py verify_history``: check that no order's history was changed behind the services'
back. Every event's hash covers its content and its predecessor's hash (``history``), so an edit
made directly in the database shows up here. Prints each problem; exits with status 1 if any.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.orders.history import ChainProblem, verify_events, verify_order
from hotline.orders.models import Order, OrderEvent


def _verify_chunk(chunk: list[Order]) -> list[list[ChainProblem]]:
    """What ``verify_order`` finds, for many orders with one query for all their events (the
    tests check that both ways agree)."""
    events: dict[int, list[OrderEvent]] = {order.pk: [] for order in chunk}
    for event in OrderEvent.objects.filter(order_id__in=events).order_by("order_id", "seq"):
        events[event.order_id].append(event)
    results = []
    for order in chunk:
        found = verify_events(order.number, events[order.pk])
        history = events[order.pk]
        # The same whole-order checks as verify_order.
        if not history:
            found.append(ChainProblem(order.number, 0, "order has no history"))
        elif history[-1].to_state != order.state:
            found.append(ChainProblem(
                order.number, history[-1].seq,
                f"order state {order.state!r} differs from history",
            ))
        results.append(found)
    return results


class Command(BaseCommand):
    help = "Verify the hash chains of the work orders' history; exit 1 if any is broken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--order", metavar="NUMBER", help="verify this order only")
        parser.add_argument("--chunk-size", type=int, default=1000,
                            help="orders read per query (default: %(default)s)")

    def handle(self, *args: Any, order: str | None = None, chunk_size: int = 1000,
               **options: Any) -> None:
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        orders = Order.objects.only("pk", "number", "state").order_by("pk")
        if order is not None:
            orders = orders.filter(number=order)
            if not orders.exists():
                raise CommandError(f"no work order {order}")
        checked = broken = problems = 0
        last_pk = 0
        # Keyset pagination: memory stays flat however many orders there are, and no cursor is
        # held open across chunks; one query fetches the events of a whole chunk.
        while True:
            chunk = list(orders.filter(pk__gt=last_pk)[:chunk_size])
            if not chunk:
                break
            results = [verify_order(chunk[0])] if order is not None else _verify_chunk(chunk)
            for found in results:
                checked += 1
                if found:
                    broken += 1
                    problems += len(found)
                    for problem in found:
                        self.stdout.write(f"{problem.number} event {problem.seq}: {problem.problem}")
            last_pk = chunk[-1].pk
        if problems:
            raise CommandError(
                f"{problems} problem(s) in {broken} of {checked} order(s)", returncode=1
            )
        if options.get("verbosity", 1) > 0:
            self.stdout.write(f"history of {checked} order(s) verified: no problems")
