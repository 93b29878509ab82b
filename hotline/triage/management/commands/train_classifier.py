"""``manage.py train_classifier``: train a category classifier version now, on this database's
orders, and print its held-out figures as one JSON line (the worker does the same on schedule)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.triage.training import do_train_classifier
from hotline.triage.versions import do_activate_version


class Command(BaseCommand):
    help = "Train the category classifier on the centre's orders (or --activate N)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--activate", type=int, default=None,
                            help="put stored version N into use instead of training")

    def handle(self, *args: Any, activate: int | None = None, **options: Any) -> None:
        if activate is not None:
            version = do_activate_version(activate)
            self.stdout.write(f"classifier v{version.version} is in use")
            return
        outcome = do_train_classifier(trigger="command")
        self.stdout.write(json.dumps(outcome.as_dict(), ensure_ascii=False))
        if not outcome.trained:
            raise CommandError(outcome.message)
