"""``manage.py rebuild_rollups [--orders] [--calls]``: count everything again into the reports'
rollups, after a bulk import, a change of a measure's definition, or to repair them. Without
an option both are rebuilt. The periodic jobs then carry on from the marks this sets
(the orders' watermark, the calls' mark).

- ``--orders``: every order into the facts and the day and month rollups
  (``rollups.rebuild_order_rollups``, set-based, one transaction);
- ``--calls``: the call, agent-time, IVR, SMS and outbound rollups from the whole history,
  ``--days-per-step`` days per transaction (``call_rollups.rebuild_call_rollups``; a
  periodic refresh running meanwhile waits between steps)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hotline.insight.call_rollups import rebuild_call_rollups
from hotline.insight.rollups import rebuild_order_rollups


class Command(BaseCommand):
    help = "Rebuild the reports' rollups (orders, calls, or both) from the recorded history."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", action="store_true", help="the order rollups")
        parser.add_argument("--calls", action="store_true", help="the call rollups")
        parser.add_argument("--days-per-step", type=int, default=1,
                            help="call rollups: days recomputed per transaction (default 1)")

    def handle(self, *args: Any, **options: Any) -> None:
        both = not (options["orders"] or options["calls"])
        if options["orders"] or both:
            started = time.monotonic()
            stats = rebuild_order_rollups()
            self.stdout.write(f"order rollups rebuilt: {stats.orders} orders, watermark at "
                              f"event {stats.watermark}, {time.monotonic() - started:.1f} s")
        if options["calls"] or both:
            started = time.monotonic()
            done = rebuild_call_rollups(days_per_step=max(1, options["days_per_step"]))
            self.stdout.write(f"call rollups rebuilt for {done.day_from}..{done.day_to}: "
                              f"{done.calls} queue-hours, {time.monotonic() - started:.1f} s")
