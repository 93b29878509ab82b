"""The demo's call centre: queues, overflow rules and a SIP extension per demo agent."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command

from hotline.contactcentre.models import OverflowRule, Queue, SipExtension
from hotline.core.digest import ha1
from hotline.demo import desk as demo

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db


def test_load_demo_desk_gives_every_agent_a_registrable_extension_once(
    city: City, capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("load_demo_desk")
    out = capsys.readouterr().out
    assert set(Queue.objects.values_list("code", flat=True)) == {"general", "enterprise"}
    assert OverflowRule.objects.filter(queue__code="enterprise", action="queue",
                                       target_queue__code="general").exists()
    phones = {p.agent.username: p for p in SipExtension.objects.select_related("agent")
              if p.agent is not None}
    assert {city.agent.username, city.sub_agent.username, city.monitor.username} <= set(phones)
    phone = phones[city.agent.username]
    assert phone.ha1_md5 == ha1(phone.number, phone.realm, demo.DEFAULT_SIP_PASSWORD)
    assert phone.number in out and "demo-sip-12345" in out
    call_command("load_demo_desk")  # a second start changes nothing
    assert "already" in capsys.readouterr().out
    assert SipExtension.objects.count() == len(phones)
