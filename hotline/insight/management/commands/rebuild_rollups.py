"""``manage.py rebuild_rollups``: count every order again into the reports' rollups (after a
change of a measure's definition, or to repair them); the periodic job then carries on from
the watermark this sets."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from hotline.insight.rollups import rebuild_order_rollups


class Command(BaseCommand):
    help = "Rebuild the order rollups of the reports from the orders and their history."

    def handle(self, *args: Any, **options: Any) -> None:
        stats = rebuild_order_rollups()
        self.stdout.write(f"order rollups rebuilt: {stats.orders} orders, "
                          f"watermark at event {stats.watermark}")
