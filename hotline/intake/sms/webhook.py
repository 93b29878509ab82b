"""The HTTP provider's webhook (``POST /intake/sms/webhook/``): inbound messages and delivery
reports, signed by the provider.

The signature is HMAC-SHA256 with HOTLINE_SMS_WEBHOOK_SECRET over ``<timestamp>.<body>``, hex,
in ``X-Hotline-Signature``, with the Unix time in ``X-Hotline-Timestamp``; a request more than
five minutes off is refused (a replayed capture). Bodies are JSON:
``{"type": "inbound", "id", "from", "to", "text"}`` or
``{"type": "report", "id", "status": "delivered" | "failed", "error"}``.
Answers: 200 with {"ok": true, ...}; 401 unsigned or badly signed; 400 a body that is not
one of those; 404 when no secret is configured (the webhook is off)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hotline.core.rules import PUBLIC, declare
from hotline.intake.sms.inbound import receive_sms, record_delivery

WINDOW_S = 300
MAX_BODY = 64 * 1024


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=status)


def _signed(request: HttpRequest, secret: str) -> bool:
    timestamp = request.headers.get("X-Hotline-Timestamp", "")
    given = request.headers.get("X-Hotline-Signature", "")
    try:
        fresh = abs(time.time() - int(timestamp)) <= WINDOW_S
    except ValueError:
        return False
    return fresh and hmac.compare_digest(given, sign(secret, timestamp, request.body))


def _text(payload: dict[str, Any], key: str, limit: int) -> str:
    value = payload.get(key, "")
    if not isinstance(value, str | int) or len(str(value)) > limit:
        raise ValueError(key)
    return str(value)


@csrf_exempt
@require_POST
def sms_webhook(request: HttpRequest) -> JsonResponse:
    secret = settings.HOTLINE_SMS_WEBHOOK_SECRET
    if not secret:
        return _error(404, "the SMS webhook is not configured")
    if len(request.body) > MAX_BODY:
        return _error(400, "the body is too large")
    if not _signed(request, secret):
        return _error(401, "the signature is missing, wrong or too old")
    try:
        payload = json.loads(request.body)
        if not isinstance(payload, dict):
            raise ValueError("body")
        kind, message_id = _text(payload, "type", 16), _text(payload, "id", 128)
        if not message_id:
            raise ValueError("id")
        if kind == "inbound":
            phone, text = _text(payload, "from", 32), _text(payload, "text", 4000)
            if not phone or not text.strip():
                raise ValueError("from/text")
            receipt = receive_sms(provider="http", provider_id=message_id, phone=phone,
                                  text=text, to=_text(payload, "to", 32))
            if receipt is None:
                return JsonResponse({"ok": True, "outcome": "opted_out"})
            return JsonResponse({"ok": receipt.accepted, "outcome": str(receipt.outcome),
                                 "number": receipt.order_number, "reason": receipt.reason},
                                status=200 if receipt.accepted else 400)
        if kind == "report":
            status = _text(payload, "status", 16)
            if status not in ("delivered", "failed"):
                raise ValueError("status")
            found = record_delivery(provider="http", provider_id=message_id,
                                    delivered=status == "delivered",
                                    error=_text(payload, "error", 255))
            return JsonResponse({"ok": True, "matched": found})
        raise ValueError("type")
    except (ValueError, UnicodeDecodeError) as exc:
        return _error(400, f"bad body: {exc}")


declare(sms_webhook, PUBLIC)
