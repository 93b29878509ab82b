"""``manage.py voice_gateway``: the SIP/RTP/IVR gateway (see hotline/voice/server.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from hotline.voice import server


class Command(BaseCommand):
    help = "Serve SIP calls: the IVR, recorded complaints and status queries."

    def add_arguments(self, parser: CommandParser) -> None:
        server.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        server.run(options["sip"], options["rtp_ports"], options["flow"], options["direct"])
