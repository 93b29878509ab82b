"""``manage.py issue_open311_key NAME``: a new API key for an Open311 client, printed once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hotline.intake.open311.service import do_issue_key


class Command(BaseCommand):
    help = "Issue an Open311 API key for a client; the key is printed once and stored hashed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="who the key is for (an app, a partner)")

    def handle(self, *args: Any, **options: Any) -> None:
        row, key = do_issue_key(options["name"])
        self.stdout.write(f"Open311 key {row.pk} for {row.name}: {key}")
        self.stdout.write("Keep it now: only its hash is stored.")
