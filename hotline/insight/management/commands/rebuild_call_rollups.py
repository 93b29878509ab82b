"""Rewrite the call statistics' rollups from the whole history of calls, agents' state log,
IVR visits, SMS and outbound attempts, a day per transaction (a periodic refresh running
meanwhile waits between days). Use after a bulk import or a change of the definitions."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hotline.insight.call_rollups import rebuild_call_rollups


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days-per-step", type=int, default=1,
                            help="days recomputed per transaction (default 1)")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        done = rebuild_call_rollups(days_per_step=max(1, options["days_per_step"]))
        self.stdout.write(f"call rollups rebuilt for {done.day_from}..{done.day_to}: "
                          f"{done.calls} queue-hours in {time.monotonic() - started:.1f} s")
