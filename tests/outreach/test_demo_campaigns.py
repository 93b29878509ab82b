"""The demo's campaign and poll are made through the real services and have results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotline.demo.campaigns import load_demo_campaigns
from hotline.outreach.models import Campaign, OutboundCall, PollResponse
from tests.api.conftest import new_order

if TYPE_CHECKING:
    from tests.conftest import City


def test_the_demo_campaign_is_finished_with_results(city: City) -> None:
    for i in range(6):
        new_order(city, citizen_phone=f"1381234{i:04d}", citizen_name=f"市民{i}")
    new_order(city, type="report", citizen_phone="13955556666", title="举报", text="举报")
    message = load_demo_campaigns()
    campaign = Campaign.objects.get()
    assert campaign.state == Campaign.State.FINISHED, message
    statuses = set(campaign.recipients.values_list("status", flat=True))
    assert {"answered", "busy", "no_answer"} <= statuses
    assert not campaign.recipients.filter(address="13955556666").exists()  # never a reporter
    assert OutboundCall.objects.filter(purpose="campaign").count() == campaign.recipients.count()
    assert PollResponse.objects.count() == 36
    assert "already" in load_demo_campaigns()
