"""``manage.py load_demo``: load the demo city 示范市 (directory, staff, orders)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hotline.demo import city


class Command(BaseCommand):
    help = ("Load the fictional city 示范市: districts, centre, sub-centres, streets, departments, "
            "a three-level catalogue with routes, staff for every role (password from "
            "HOTLINE_DEMO_PASSWORD, default demo12345) and generated work orders over the last "
            "90 days. Does nothing when the directory already has units.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=city.DEFAULT_ORDERS,
                            help="how many work orders to generate (default %(default)s)")
        parser.add_argument("--seed", type=int, default=city.DEFAULT_SEED,
                            help="random seed, for a reproducible city (default %(default)s)")

    def handle(self, *args: Any, **options: Any) -> None:
        result = city.load_demo(orders=max(0, options["orders"]), seed=options["seed"],
                                progress=lambda line: self.stdout.write(line))
        self.stdout.write(result.message)
        if result.loaded:
            self.stdout.write("logins (password from HOTLINE_DEMO_PASSWORD, default "
                              f"{city.DEFAULT_PASSWORD}):")
            for username, role, unit in city.demo_logins():
                self.stdout.write(f"  {username:<24} {role:<12} {unit}")
            self.stdout.write("administrators also enter a TOTP code; authenticator keys:")
            for username, key, uri in city.demo_second_factors():
                self.stdout.write(f"  {username:<24} {key}  {uri}")
