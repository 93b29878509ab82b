"""Compute the stored text features of orders that have none yet (or an older version), so
that the first hot-issue page after a bulk import does not pay for segmenting every order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from hotline.insight.services import BASELINE_DAYS, MAX_RANGE_DAYS, index_missing
from hotline.orders.models import Order


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=MAX_RANGE_DAYS + BASELINE_DAYS,
                            help="orders created in the last N days (default: the longest "
                                 "window a page can ask for plus its baseline)")

    def handle(self, *args: Any, **options: Any) -> None:
        since = timezone.now() - dt.timedelta(days=options["days"])
        done = index_missing(Order.objects.filter(created_at__gte=since))
        self.stdout.write(f"indexed {done} orders")
