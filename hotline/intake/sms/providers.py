"""SMS providers: what ``send_sms`` hands a message to. "log" writes it to the log (development,
tests); "http" posts it to a gateway's HTTP API (HOTLINE_SMS_HTTP_URL, with
HOTLINE_SMS_HTTP_KEY as a bearer token) and gets the provider's message id back, its inbound
messages and delivery reports coming back through the signed webhook (``webhook.py``); "smpp"
submits it to an operator's SMSC over SMPP 3.4 (``smpp.py``), whose receipts and inbound
messages the receiver process takes (``smpp_receiver.py``)."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
import uuid
from typing import Protocol

from django.conf import settings

log = logging.getLogger("hotline.intake.sms")


class ProviderError(Exception):
    """The provider did not take the message."""


class SmsProvider(Protocol):
    name: str

    def send(self, phone: str, text: str) -> str:
        """Hand the message over; returns the provider's message id."""
        ...


class LogProvider:
    name = "log"

    def send(self, phone: str, text: str) -> str:
        log.info("SMS to ****%s: %s", phone[-4:], text)
        return uuid.uuid4().hex


class HttpProvider:
    """POST {"to", "text", "ref"} as JSON; the answer is {"id": "..."} with a 2xx."""

    name = "http"

    def __init__(self, url: str, key: str, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ProviderError("HOTLINE_SMS_HTTP_URL must be an http:// or https:// URL")
        self.url, self.key, self.timeout = url, key, timeout

    def send(self, phone: str, text: str) -> str:
        ref = uuid.uuid4().hex
        body = json.dumps({"to": phone, "text": text, "ref": ref}, ensure_ascii=False).encode()
        # http(s) only: checked when the provider was made.
        request = urllib.request.Request(self.url, data=body, method="POST", headers={  # noqa: S310
            "Content-Type": "application/json; charset=utf-8",
            "Authorization": f"Bearer {self.key}"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise ProviderError(f"the provider answered {exc.code}") from None
        except (OSError, ValueError) as exc:
            raise ProviderError(f"the provider could not be reached: {exc}") from None
        found = answer.get("id") if isinstance(answer, dict) else None
        return str(found)[:128] if found else ref


def provider() -> SmsProvider:
    name = settings.HOTLINE_SMS_PROVIDER
    if name == "http":
        return HttpProvider(settings.HOTLINE_SMS_HTTP_URL, settings.HOTLINE_SMS_HTTP_KEY)
    if name == "smpp":
        from hotline.intake.sms.smpp import SmppProvider  # smpplib only where it is used

        return SmppProvider.from_settings()
    return LogProvider()
