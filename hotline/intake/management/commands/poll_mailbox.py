"""``manage.py poll_mailbox``: poll the IMAP mailbox of HOTLINE_IMAP_URL once, now, and say what
was taken (to try a new mailbox's settings without waiting for the worker's next turn)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hotline.intake.email.imap import poll_mailbox


class Command(BaseCommand):
    help = "Poll the IMAP mailbox (HOTLINE_IMAP_URL) once and print what was taken."

    def handle(self, *args: Any, **options: Any) -> None:
        result = poll_mailbox()
        self.stdout.write(f"{result.mailbox or '-'}: {result.taken} taken, {result.refused} "
                          f"refused, {result.skipped} skipped, {result.waiting} waiting")
        if result.error:
            raise CommandError(result.error)
