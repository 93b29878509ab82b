"""Merged hotline numbers (seed 001): a former department hotline, now a ``ServiceNumber``,
keeps its own greeting, IVR flow and queue, and its calls carry the number they came in on.

The sipp tests dial the gateway's numbers over loopback; the directory and the queue choice are
tested on their own too (a bad flow file must not take a number off the air)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from hotline.contactcentre.acd_services import queue_for
from hotline.contactcentre.ivr import visits_for_contact
from hotline.contactcentre.lines import figures_by_line
from hotline.contactcentre.models import Queue, ServiceNumber
from hotline.intake.messages import InboundMessage
from hotline.intake.services import do_receive
from hotline.orders.models import Contact
from hotline.voice import services
from hotline.voice.ivr.flow import GREETING_NODE, Say, load_flow, with_greeting
from hotline.voice.lines import LineDirectory, LineRow
from tests.conftest import City
from tests.voice.test_gateway_sipp import run_call, short_flow

WATER_FLOW = """
name: 原水务热线
start: hello
operator: bye
fallback: bye
timeout: 2
retries: 1
texts: {}
labels: {}
nodes:
  hello:
    type: play
    prompt: 供水报修请直接说明地址。
    next: bye
  bye:
    type: hangup
    prompt: 再见。
"""


def _water_flow(tmp_path: Path) -> Path:
    path = tmp_path / "water.yaml"
    path.write_text(WATER_FLOW, encoding="utf-8")
    return path


# --- the directory and the flow, without a call ------------------------------------------------

def test_a_greeting_goes_before_the_flow_and_changes_nothing_else() -> None:
    flow = short_flow()
    greeted = with_greeting(flow, "原市水务热线96510已并入12345。")
    assert greeted.start == GREETING_NODE
    assert greeted.nodes[GREETING_NODE].next == flow.start
    assert greeted.nodes[GREETING_NODE].prompt == (Say("原市水务热线96510已并入12345。"),)
    assert {k: v for k, v in greeted.nodes.items() if k != GREETING_NODE} == dict(flow.nodes)
    assert with_greeting(flow, "  ") is flow


def test_a_line_with_a_bad_flow_file_still_answers_with_the_centres_flow(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("nodes: [oops", encoding="utf-8")
    centre = short_flow()
    lines = LineDirectory(centre, lambda path: load_flow(path, services=services.SERVICES))
    lines.update([LineRow("96510", "水务", flow_path=str(_water_flow(tmp_path))),
                  LineRow("96520", "燃气", flow_path=str(broken)),
                  LineRow("96530", "电力", flow_path=str(tmp_path / "missing.yaml"))])
    assert lines.flow_for("96510").name == "原水务热线"
    assert lines.flow_for("96520") is centre and lines.flow_for("96530") is centre
    assert lines.flow_for("12345") is centre and lines.get(None) is None
    assert "broken.yaml cannot be used" in caplog.text


@pytest.mark.django_db
def test_a_generic_transfer_joins_the_lines_queue_a_named_one_its_own() -> None:
    general = Queue.objects.create(code="general", name="综合")
    water = Queue.objects.create(code="water", name="水务专席")
    assert queue_for("human") == general
    assert queue_for("human", line_queue="water") == water
    assert queue_for("general", line_queue="water") == general  # the flow named a queue
    water.active = False
    water.save()
    assert queue_for("human", line_queue="water") == general


@pytest.mark.django_db
def test_the_gateway_reads_the_active_numbers_with_their_queues(tmp_path: Path) -> None:
    water = Queue.objects.create(code="water", name="水务专席")
    ServiceNumber.objects.create(number="96510", name="原水务热线", queue=water,
                                 greeting="您好", flow_path=str(_water_flow(tmp_path)))
    ServiceNumber.objects.create(number="96520", name="原燃气热线", active=False)
    rows = services.service_number_rows()
    assert rows == [LineRow("96510", "原水务热线", flow_path=str(_water_flow(tmp_path)),
                            greeting="您好", queue="water")]


# --- real calls ------------------------------------------------------------------------------

@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_each_number_answers_with_its_own_greeting_and_flow(city: City, tmp_path: Path,
                                                            settings: object) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined]
    ServiceNumber.objects.create(number="96510", name="原市水务热线",
                                 greeting="原市水务热线已并入12345。",
                                 flow_path=str(_water_flow(tmp_path)))
    ServiceNumber.objects.create(number="96888", name="原市民服务热线",
                                 greeting="原市民服务热线已并入12345。")

    code, gateway, log = run_call(tmp_path, "ivr_gateway_hangs_up.xml", ("pause", 100),
                                  called="96510")
    assert code == 0, log
    assert gateway.entries("visit") == [GREETING_NODE, "hello", "bye"]
    water_call = Contact.objects.get(external_id__startswith="sip:", called_number="96510")
    assert [v.node for v in visits_for_contact(water_call)] == [GREETING_NODE, "hello", "bye"]

    # The other merged number: the centre's menu, after its own greeting.
    code, gateway, log = run_call(tmp_path, "ivr_gateway_hangs_up.xml", ("pause", 100),
                                  called="96888")
    assert code == 0, log
    assert gateway.entries("visit")[:2] == [GREETING_NODE, "welcome"]

    # 12345 itself: no greeting, the centre's flow.
    code, gateway, log = run_call(tmp_path, "ivr_gateway_hangs_up.xml", ("pause", 100))
    assert code == 0, log
    assert gateway.entries("visit")[0] == "welcome"
    assert Contact.objects.filter(external_id__startswith="sip:",
                                  called_number="12345").count() == 1

    figures = {row.number: row for row in figures_by_line(
        timezone.now() - dt.timedelta(hours=1), timezone.now() + dt.timedelta(minutes=1))}
    assert figures["96510"].calls == 1 and figures["96510"].name == "原市水务热线"
    assert figures["96888"].calls == 1 and figures["12345"].name == ""


@pytest.mark.django_db
def test_messages_count_by_the_address_they_were_sent_to(city: City) -> None:
    do_receive(InboundMessage(channel="sms", text="路灯坏了", sender_phone="13800001111",
                              message_id="a", called_number="1069012345"))
    do_receive(InboundMessage(channel="sms", text="我要补充", sender_phone="13800001111",
                              message_id="b", called_number="1069012345", create_order=False))
    (row,) = figures_by_line(timezone.now() - dt.timedelta(hours=1),
                             timezone.now() + dt.timedelta(minutes=1))
    assert (row.number, row.contacts, row.calls, row.orders) == ("1069012345", 2, 0, 1)
