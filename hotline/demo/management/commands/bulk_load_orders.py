"""``manage.py bulk_load_orders N``: insert N synthetic work orders fast (COPY on PostgreSQL)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.demo.bulk import (
    DEFAULT_BATCH,
    DEFAULT_SPAN_DAYS,
    DirectoryMissing,
    ensure_minimal_directory,
    load_orders,
)


class Command(BaseCommand):
    help = (
        "Insert N synthetic work orders with citizens, contacts, assignments and a verifiable "
        "history, in batches (COPY on PostgreSQL), and print the rate."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("count", type=int, help="how many orders to insert")
        parser.add_argument("--batch", type=int, default=DEFAULT_BATCH,
                            help=f"orders per transaction (default {DEFAULT_BATCH})")
        parser.add_argument("--days", type=int, default=DEFAULT_SPAN_DAYS,
                            help="spread creation times over this many past days")
        parser.add_argument("--seed", type=int, default=None, help="random seed (repeatable data)")
        parser.add_argument("--create-directory", action="store_true",
                            help="create a minimal district/unit/category if none exists")
        parser.add_argument("--no-reference-checks", action="store_true",
                            help="PostgreSQL superuser only: skip foreign-key checks (faster "
                                 "preloading of benchmark data)")

    def handle(self, *args: Any, **options: Any) -> None:
        count: int = options["count"]
        if count < 0:
            raise CommandError("count must not be negative")
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        if options["create_directory"]:
            ensure_minimal_directory()

        def progress(done: int, seconds: float) -> None:
            rate = done / seconds if seconds > 0 else 0.0
            self.stderr.write(f"{done}/{count} orders, {rate:,.0f} orders/s")

        try:
            stats = load_orders(count, batch_size=options["batch"], seed=options["seed"],
                                span_days=options["days"], progress=progress,
                                check_references=not options["no_reference_checks"])
        except DirectoryMissing as exc:
            raise CommandError(f"{exc} (or pass --create-directory)") from exc
        self.stdout.write(
            f"loaded {stats.orders} orders ({stats.rows} rows) in {stats.seconds:.1f} s: "
            f"{stats.orders_per_s:,.0f} orders/s, {stats.rows_per_s:,.0f} rows/s"
        )
