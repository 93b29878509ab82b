"""``manage.py verify_history``: check that no order's history was changed behind the services'
back. Every event's hash covers its content and its predecessor's hash (``history``), so an edit
made directly in the database shows up here. Prints each problem; exits with status 1 if any.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.orders.history import verify_order
from hotline.orders.models import Order


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
        # held open across chunks.
        while True:
            chunk = list(orders.filter(pk__gt=last_pk)[:chunk_size])
            if not chunk:
                break
            for item in chunk:
                found = verify_order(item)
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
