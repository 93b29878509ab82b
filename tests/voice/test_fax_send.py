"""A reply sent by fax through the gateway: staff queue it (``contactcentre.faxes``), a
gateway with a trunk claims it, renders the reply into pages and dials the number; the far end
is a second gateway answering that number with its T.30 terminal, over real SIP and RTP on
loopback. Plus the queue's rules without a call: scope, retries, recovery."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from hotline.contactcentre import faxes
from hotline.contactcentre.models import OutboundFax
from hotline.core.errors import Forbidden, InvalidInput
from hotline.orders.models import Contact
from hotline.voice.fax import spandsp
from hotline.voice.gateway import GatewayConfig
from hotline.voice.prompts import ToneTts
from hotline.voice.server import build_gateway
from tests.api.conftest import new_order
from tests.conftest import City
from tests.voice.test_fax import pdf_page_count

FAX_NUMBER = "059112345678"
REPLY = "市民您好：经核查，您反映的小区停水问题系管道检修所致，已于当日恢复供水。" * 60


def _replied(city: City) -> Any:
    order = new_order(city)
    order.reply_text = REPLY
    order.save(update_fields=["reply_text"])
    return order


@pytest.mark.django_db
def test_the_queue_checks_who_what_and_where(city: City) -> None:
    order = _replied(city)
    with pytest.raises(Forbidden):
        faxes.do_queue_reply_fax(city.handler, order, FAX_NUMBER)
    with pytest.raises(InvalidInput):
        faxes.do_queue_reply_fax(city.agent, order, "12")
    empty = new_order(city)
    with pytest.raises(InvalidInput):
        faxes.do_queue_reply_fax(city.agent, empty, FAX_NUMBER)
    fax = faxes.do_queue_reply_fax(city.agent, order, "0591-1234 5678")
    assert (fax.number, fax.state, fax.text) == (FAX_NUMBER, "queued", REPLY)


@pytest.mark.django_db
def test_the_order_page_queues_the_reply_fax_for_the_centre_only(city: City) -> None:
    from django.test import Client

    from tests.conftest import verify_second_factor

    order = _replied(city)

    def client(user: Any) -> Client:
        c = Client()
        c.force_login(user)
        verify_second_factor(c, user)
        return c

    agent = client(city.agent)
    assert 'data-testid="btn-send-fax"' in agent.get(f"/orders/{order.number}/").content.decode()
    assert agent.post(f"/orders/{order.number}/fax/",
                      {"fax_number": FAX_NUMBER}).status_code == 302
    assert OutboundFax.objects.get().number == FAX_NUMBER
    page = agent.get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="order-fax"' in page and FAX_NUMBER in page
    assert agent.post(f"/orders/{order.number}/fax/", {"fax_number": "1"}).status_code == 302
    assert OutboundFax.objects.count() == 1  # refused with a message, nothing queued
    assert client(city.handler).post(f"/orders/{order.number}/fax/",
                                     {"fax_number": FAX_NUMBER}).status_code == 403


@pytest.mark.django_db
def test_one_claim_per_fax_retries_then_failure_and_recovery(city: City) -> None:
    fax = faxes.do_queue_reply_fax(city.agent, _replied(city), FAX_NUMBER)
    job = faxes.claim_fax("gw-a")
    assert job is not None and job.id == fax.pk
    assert faxes.claim_fax("gw-b") is None  # taken
    now = timezone.now()
    assert faxes.do_finish_fax(fax.pk, ok=False, error="486 Busy", now=now).state == "queued"
    assert faxes.claim_fax("gw-b", now=now) is None  # not before the retry time
    later = now + faxes.RETRY_AFTER + dt.timedelta(seconds=1)
    assert faxes.claim_fax("gw-b", now=later) is not None
    faxes.do_finish_fax(fax.pk, ok=False, error="no answer", now=later)
    much_later = later + faxes.RETRY_AFTER * 2
    assert faxes.claim_fax("gw-a", now=much_later) is not None
    # The gateway died: the row comes back after a while, and a late report is ignored.
    stuck = much_later + faxes.STUCK_AFTER + dt.timedelta(seconds=1)
    assert faxes.do_recover_faxes(now=stuck) == 1
    assert faxes.claim_fax("gw-b", now=stuck) is not None
    assert faxes.do_finish_fax(fax.pk, ok=False, error="failed", now=stuck).state == "failed"
    assert OutboundFax.objects.get(pk=fax.pk).attempts == 3


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not spandsp.available(), reason="libspandsp2 not installed")
def test_a_reply_goes_out_by_fax_through_the_trunk(city: City, tmp_path: Path, settings: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.intake.models import ReceivedMessage

    settings.MEDIA_ROOT = tmp_path / "media"
    # A fax that fails (a modem that missed its timing on a loaded machine, as on a bad line)
    # is tried again: at once here instead of after two minutes.
    monkeypatch.setattr(faxes, "RETRY_AFTER", dt.timedelta(0))
    order = _replied(city)
    fax = faxes.do_queue_reply_fax(city.agent, order, FAX_NUMBER)

    async def scenario() -> Any:
        base = random.randrange(40000, 49000, 40)
        far = build_gateway(GatewayConfig(
            sip_host="127.0.0.1", sip_port=0, rtp_host="127.0.0.1", rtp_ports=(base, base + 9),
            recordings_dir=tmp_path / "far", acd=False, send_faxes=False,
            fax_numbers=frozenset({FAX_NUMBER})), tts=ToneTts(seconds=0.08),
            prompt_dir=tmp_path / "prompts")
        await far.start(warm=False)
        near = build_gateway(GatewayConfig(
            sip_host="127.0.0.1", sip_port=0, rtp_host="127.0.0.1",
            rtp_ports=(base + 20, base + 29), recordings_dir=tmp_path / "near", acd=False,
            trunk=("127.0.0.1", far.sip_port), gateway_id="gw-near"),
            tts=ToneTts(seconds=0.08), prompt_dir=tmp_path / "prompts")
        assert near.fax_out is not None
        near.fax_out.poll_s = 0.5
        await near.start(warm=False)
        try:
            for _ in range(3000):  # a two-page fax takes about a minute; a busy machine more
                sent_ok = any(ok for _id, ok, _p, _e in near.fax_out.sent)
                delivered = any(c.receipt is not None and c.receipt.accepted
                                for c in far.fax.finished)
                if (sent_ok and delivered) or len(near.fax_out.sent) >= faxes.MAX_ATTEMPTS:
                    break
                await asyncio.sleep(0.2)
            return near.fax_out.sent, far.fax.finished
        finally:
            await near.stop()
            await far.stop()

    sent, received = asyncio.run(scenario())
    assert sent and sent[-1][1], sent
    (fax_id, ok, pages, error) = sent[-1]
    assert (fax_id, ok, pages, error) == (fax.pk, True, 2, ""), sent
    fax.refresh_from_db()
    assert (fax.state, fax.pages, fax.gateway) == ("sent", 2, "gw-near")
    assert fax.attempts == len(sent) <= faxes.MAX_ATTEMPTS
    delivered = [c for c in received if c.receipt is not None and c.receipt.accepted]
    record = ReceivedMessage.objects.get(pk=delivered[-1].receipt.record_id)
    with record.raw.open("rb") as stored:
        assert pdf_page_count(stored.read()) == 2
    outbound = Contact.objects.get(channel="fax", direction="out")
    assert outbound.orders.filter(pk=order.pk).exists()  # type: ignore[attr-defined]
    assert outbound.citizen == order.citizen
