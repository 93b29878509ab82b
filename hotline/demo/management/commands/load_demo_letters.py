"""``manage.py load_demo_letters``: publish real mayor's-mailbox letters with their replies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.demo import mailbox


class Command(BaseCommand):
    help = ("Publish letters of Shangluo's mayor's mailbox with their official replies (read from "
            "../shared/data/mayor-mailbox/shangluo.csv; nothing happens without the file). "
            "Letters already loaded are skipped.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=mailbox.DEFAULT_LETTERS,
                            help="how many letters (default %(default)s)")
        parser.add_argument("--file", type=Path, default=None,
                            help="the CSV file (default: the shared data folder's)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = mailbox.load_letters(options["file"], max(0, options["count"]))
        except mailbox.NoCentre as error:
            raise CommandError(str(error)) from None
        self.stdout.write(result.message)
