"""The SMTP receiver (``python -m hotline.intake.email.server``; ``make run`` starts it on
HOTLINE_SMTP_LISTEN, 127.0.0.1:2525 by default).

aiosmtpd speaks SMTP; this decides: a recipient outside HOTLINE_MAIL_DOMAINS is refused at
RCPT (550), a mail over the size limit at DATA (552, aiosmtpd's own check), and 250 is said
only once ``deliver_mail`` committed the mail, so a sender whose mail we lost retries it. A
fault of ours answers 451 (try again later); garbage is answered, never fatal.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger("hotline.intake.email")

MAX_RECIPIENTS = 20
Deliver = Callable[[bytes, list[str]], tuple[int, str]]


class HotlineHandler:
    def __init__(self, domains: Sequence[str], deliver: Deliver) -> None:
        self.domains = {d.lower().strip() for d in domains if d.strip()}
        self.deliver = deliver

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        domain = address.rpartition("@")[2].lower().strip()
        if domain not in self.domains:
            return "550 5.1.1 no such mailbox here"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        loop = asyncio.get_running_loop()
        code, text = await loop.run_in_executor(None, self._deliver, raw,
                                                list(envelope.rcpt_tos))
        return f"{code} {text}"

    def _deliver(self, raw: bytes, recipients: list[str]) -> tuple[int, str]:
        from django.db import close_old_connections

        close_old_connections()
        try:
            return self.deliver(raw, recipients)
        except Exception:
            log.exception("delivering a mail to %s failed", recipients)
            return 451, "4.3.0 temporary failure, try again later"
        finally:
            close_old_connections()


def start_receiver(host: str, port: int, *, domains: Sequence[str], max_bytes: int,
                   deliver: Deliver | None = None) -> Any:
    """A started aiosmtpd Controller (its own thread and loop); ``.stop()`` ends it."""
    from aiosmtpd.controller import Controller

    if deliver is None:
        from hotline.intake.email.delivery import deliver_mail

        deliver = deliver_mail
    handler = HotlineHandler(domains, deliver)
    controller = Controller(handler, hostname=host, port=port, ready_timeout=30,
                            server_kwargs={"data_size_limit": max_bytes,
                                           "ident": "12345 hotline"})
    controller.start()
    return controller


def main() -> None:  # pragma: no cover - the launcher's child, tested through test_launcher
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
    django.setup()
    from django.conf import settings

    from hotline.intake.services import max_inbound_bytes

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    host, port = settings.HOTLINE_SMTP_LISTEN
    controller = start_receiver(host, port, domains=settings.HOTLINE_MAIL_DOMAINS,
                                max_bytes=max_inbound_bytes())
    log.info("SMTP receiver on %s:%d for %s", host, port, ", ".join(settings.HOTLINE_MAIL_DOMAINS))
    stop = asyncio.Event()

    async def wait() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()

    try:
        asyncio.run(wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
