"""A fax campaign's recipient sent over the real fax path: the campaign's pacer puts the fax in
the gateways' queue, a gateway with a trunk claims it, renders the letter into A4 pages and
dials; the far end is a second gateway answering that number with its T.30 terminal, over real
SIP and RTP on loopback (the set-up of test_fax_send). The recipient then follows the fax."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import random
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from hotline.contactcentre import faxes
from hotline.outreach import campaigns
from hotline.outreach.campaign_recipients import read_upload
from hotline.voice.fax import spandsp
from hotline.voice.gateway import GatewayConfig
from hotline.voice.prompts import ToneTts
from hotline.voice.server import build_gateway
from tests.conftest import City

FAX_NUMBER = "059187654321"
LETTER = "各单位：因管网检修，12月5日8时至18时东街片区停水，请提前储水。\n福州市12345热线"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not spandsp.available(), reason="libspandsp2 not installed")
def test_a_fax_campaign_sends_its_letter_through_the_trunk(
        city: City, tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.HOTLINE_OUTREACH_QUIET_START = settings.HOTLINE_OUTREACH_QUIET_END  # any hour
    monkeypatch.setattr(faxes, "RETRY_AFTER", dt.timedelta(0))  # a missed T.30 retried at once
    people = read_upload(io.BytesIO(f"传真,单位\n{FAX_NUMBER},东街社区\n".encode()), "faxes.csv")
    campaign = campaigns.do_create_campaign(city.admin, campaigns.CampaignInput(
        name="停水通知（传真）", channel="fax", topic="outage", message=LETTER,
        subject="停水通知", per_minute=60, concurrent=1, daily_start=dt.time(0, 0),
        daily_end=dt.time(0, 0)), people)
    campaigns.do_campaign_action(city.admin, campaign.pk, "start")
    assert campaigns.do_pace_campaigns(timezone.now()) == 1
    recipient = campaign.recipients.get()
    assert recipient.status == "queued" and recipient.fax is not None

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
            for _ in range(3000):  # a one-page fax takes half a minute; a busy machine more
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
    assert sent[-1][0] == recipient.fax_id and sent[-1][2] == 1, sent
    assert any(c.receipt is not None and c.receipt.accepted for c in received)
    assert campaigns.do_follow_faxes() == 1
    recipient.refresh_from_db()
    assert (recipient.status, recipient.result, recipient.attempts) == (
        "sent", {"pages": 1}, len(sent))
    campaigns.do_pace_campaigns(timezone.now())
    campaign.refresh_from_db()
    assert campaign.state == "finished"
    assert campaigns.campaign_progress(campaign).by_status == {"sent": 1}
