"""``python manage.py load_demo_desk``: the demo's queues and agents' SIP extensions."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from hotline.demo import desk


class Command(BaseCommand):
    help = "Create the demo call queues and a SIP extension for every demo agent (once)."

    def handle(self, *args: Any, **options: Any) -> None:
        made = desk.load_demo_desk()
        if not made:
            self.stdout.write("queues exist already: demo desk not loaded")
            return
        self.stdout.write(f"SIP extensions (password from HOTLINE_DEMO_SIP_PASSWORD, default "
                          f"{desk.DEFAULT_SIP_PASSWORD}), register to the voice gateway:")
        for number, username in made:
            self.stdout.write(f"  {number}  {username}")
