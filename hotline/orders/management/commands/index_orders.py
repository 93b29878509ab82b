from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from hotline.orders.models import Order
from hotline.orders.search import index_new_orders, index_orders


class Command(BaseCommand):
    help = ("Index new work orders for search (ids above the highest indexed one); run it "
            "periodically. --all re-indexes every order.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--all", action="store_true", help="re-index every order")

    def handle(self, *args: Any, **options: Any) -> None:
        count = index_orders(Order.objects.all()) if options["all"] else index_new_orders()
        self.stdout.write(f"orders indexed: {count}")
