from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hotline.demo.knowledge import NoDirectory, load_demo_knowledge


class Command(BaseCommand):
    help = "Add the demo city's knowledge entries (service guides, policies, FAQ, departments)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = load_demo_knowledge()
        except NoDirectory as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"knowledge entries: {result['created']} created, "
                          f"{result['skipped']} already there")
