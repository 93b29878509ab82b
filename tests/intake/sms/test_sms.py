"""The SMS channel: sending through the providers (a real HTTP gateway on loopback), the record
of every message, opt-out by TD, the hourly limit, and the signed webhook for inbound messages
and delivery reports."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.test import Client

from hotline.intake.models import SmsMessage, SmsOptOut
from hotline.intake.sms.outbound import LOG_OUTBOX, send_sms, sms_parts
from hotline.intake.sms.webhook import sign
from hotline.orders.models import Order

pytestmark = pytest.mark.django_db

SECRET = "test-webhook-secret-0123456789"
PHONE = "13800001111"


@pytest.fixture(autouse=True)
def _webhook_secret(settings: Any) -> None:
    settings.HOTLINE_SMS_WEBHOOK_SECRET = SECRET
    settings.HOTLINE_SMS_PROVIDER = "log"
    LOG_OUTBOX.clear()


def post(client: Client, payload: Any, *, secret: str = SECRET, skew: int = 0,
         raw: bytes | None = None) -> Any:
    body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
    stamp = str(int(time.time()) + skew)
    return client.post("/intake/sms/webhook/", body, content_type="application/json",
                       HTTP_X_HOTLINE_TIMESTAMP=stamp,
                       HTTP_X_HOTLINE_SIGNATURE=sign(secret, stamp, body))


def test_parts_are_counted_as_the_network_bills_them() -> None:
    assert (sms_parts("好" * 70), sms_parts("好" * 71), sms_parts("a" * 160),
            sms_parts("a" * 161)) == (1, 2, 1, 2)


def test_an_inbound_sms_becomes_an_order_and_is_answered_with_its_number(city: Any,
                                                                         client: Client) -> None:
    r = post(client, {"type": "inbound", "id": "p-1", "from": PHONE, "to": "12345",
                      "text": "鼓楼区东街路灯坏了一周了"})
    assert r.status_code == 200 and r.json()["outcome"] == "created"
    order = Order.objects.get()
    assert (order.channel, order.citizen.phone) == ("sms", PHONE)
    (answer,) = LOG_OUTBOX
    assert answer.phone == PHONE and order.number in answer.text and "回复TD退订" in answer.text
    logged = SmsMessage.objects.order_by("pk")
    assert [(m.direction, m.status) for m in logged] == [("in", "received"), ("out", "sent")]
    assert logged[1].order == order and logged[0].contact is not None
    # The provider retries the same message: one order, no second answer.
    again = post(client, {"type": "inbound", "id": "p-1", "from": PHONE, "text": "鼓楼区东街路灯坏了一周了"})
    assert again.json()["outcome"] == "duplicate" and Order.objects.count() == 1
    assert len(LOG_OUTBOX) == 1
    # Quoting the number adds to the order.
    more = post(client, {"type": "inbound", "id": "p-2", "from": PHONE,
                         "text": f"{order.number} 今晚还是不亮"})
    assert more.json()["outcome"] == "attached" and Order.objects.count() == 1
    # A delivery report marks our answer delivered.
    sent = SmsMessage.objects.filter(direction="out").first()
    assert sent is not None
    report = post(client, {"type": "report", "id": sent.provider_id, "status": "delivered"})
    assert report.json() == {"ok": True, "matched": 1}
    sent.refresh_from_db()
    assert sent.status == "delivered" and sent.delivered_at is not None


def test_td_opts_out_of_notifications_but_not_of_what_the_citizen_asks_for(city: Any,
                                                                            client: Client) -> None:
    r = post(client, {"type": "inbound", "id": "p-9", "from": PHONE, "text": " td "})
    assert r.json()["outcome"] == "opted_out" and SmsOptOut.objects.filter(phone=PHONE).exists()
    assert Order.objects.count() == 0
    assert "退订" in LOG_OUTBOX[-1].text or "no more notifications" in LOG_OUTBOX[-1].text
    refused = send_sms(PHONE, "您的工单已办结", purpose="closed")
    assert not refused.sent and refused.error == "opted out (TD)"
    assert send_sms(PHONE, "验证码 123456", purpose="verify").sent


def test_one_phone_gets_at_most_the_hourly_limit(city: Any, settings: Any) -> None:
    settings.HOTLINE_SMS_PER_PHONE_HOUR = 3
    results = [send_sms("13900002222", f"第{n}条", purpose="reply").sent for n in range(5)]
    assert results == [True, True, True, False, False]
    assert SmsMessage.objects.filter(status="refused").count() == 2
    assert send_sms("13900003333", "别的号码", purpose="reply").sent


def test_the_webhook_refuses_what_is_not_signed_fresh_and_well_formed(city: Any,
                                                                      client: Client,
                                                                      settings: Any) -> None:
    good = {"type": "inbound", "id": "x", "from": PHONE, "text": "hi"}
    assert post(client, good, secret="wrong").status_code == 401
    assert post(client, good, skew=-3600).status_code == 401
    assert client.post("/intake/sms/webhook/", b"{}", content_type="application/json"
                       ).status_code == 401
    for bad in (b"not json", b"[]", json.dumps({"type": "inbound", "id": "y"}).encode(),
                json.dumps({"type": "report", "id": "y", "status": "maybe"}).encode(),
                json.dumps({"type": "gossip", "id": "y"}).encode(),
                json.dumps({"type": "inbound", "id": "z", "from": PHONE, "text": ["x"]}).encode(),
                b"\xff\xfe"):
        r = post(client, None, raw=bad)
        assert r.status_code == 400, (bad, r.content)
    assert client.get("/intake/sms/webhook/").status_code == 405
    assert Order.objects.count() == 0
    settings.HOTLINE_SMS_WEBHOOK_SECRET = ""
    assert post(client, good).status_code == 404


class Gateway(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]] = []
    fail = False

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Gateway.received.append((self.headers["Authorization"], body))
        status, answer = (500, b"{}") if Gateway.fail else (200, json.dumps(
            {"id": f"gw-{len(Gateway.received)}"}).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway(settings: Any) -> Iterator[type[Gateway]]:
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Gateway.received, Gateway.fail = [], False
    settings.HOTLINE_SMS_PROVIDER = "http"
    settings.HOTLINE_SMS_HTTP_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.HOTLINE_SMS_HTTP_KEY = "gw-key"
    yield Gateway
    server.shutdown()
    server.server_close()


def test_the_http_provider_posts_to_a_real_gateway_and_records_failures(city: Any,
                                                                        gateway: Any) -> None:
    sent = send_sms(PHONE, "您的工单12345678已受理", purpose="accepted")
    assert sent.sent and sent.provider_id == "gw-1"
    ((auth, body),) = gateway.received
    assert auth == "Bearer gw-key" and body["to"] == PHONE and body["text"] == "您的工单12345678已受理"
    gateway.fail = True
    failed = send_sms(PHONE, "第二条", purpose="accepted")
    assert not failed.sent and failed.status == "failed" and "500" in failed.error
    assert SmsMessage.objects.get(provider_id="gw-1").provider == "http"
    assert not LOG_OUTBOX  # nothing went to the log provider
