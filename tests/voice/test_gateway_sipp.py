"""The gateway process end to end: sipp calls the IVR over loopback and presses keys.

The gateway runs in this process on free ports, over the Django test database (its service
threads must see the test's rows: transaction=True), with short tone prompts so a call takes
seconds. Each test follows one branch of the default flow and asserts on sipp's exit code,
on the gateway's event log and on what the platform recorded.
"""

import asyncio
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_django.fixtures import Settings

from hotline.contactcentre.ivr import visits_for_contact
from hotline.orders import numbering
from hotline.orders.models import Attachment, Contact, Order
from hotline.orders.services import NewOrder, do_create_order
from hotline.voice import services
from hotline.voice.gateway import GatewayConfig
from hotline.voice.ivr.flow import DEFAULT_FLOW, Flow, build_flow
from hotline.voice.prompts import ToneTts
from hotline.voice.server import build_gateway
from tests.conftest import City
from tests.voice.test_udp_sipp import free_udp_port

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SCENARIOS = Path(__file__).parent / "scenarios"
PCAPS = Path("/usr/share/sip-tester")
CALLER = "13800138000"
KEY_FILES = {**{d: f"dtmf_2833_{d}.pcap" for d in "0123456789"},
             "#": "dtmf_2833_pound.pcap", "*": "dtmf_2833_star.pcap"}
KEY_GAP_MS = 600
SAME_KEY_MS = 1300  # the DTMF receiver takes a capture replayed within 1 s for the same press


def script(*steps: tuple[Any, ...]) -> str:
    """sipp actions for ("keys", "123"), ("pause", ms) and ("speech",) steps."""
    lines = []
    last_start: dict[str, int]
    gaps: list[int]
    clock, last_start, gaps = 0, {}, []
    for step in steps:
        if step[0] == "keys":
            for key in step[1]:
                wait = last_start.get(key, -SAME_KEY_MS) + SAME_KEY_MS - clock
                if wait > 0:
                    lines.append(f'  <pause milliseconds="{wait}"/>')
                    clock += wait
                last_start[key] = clock
                clock += KEY_GAP_MS
                lines.append(f'  <nop><action><exec play_pcap_audio="{PCAPS / KEY_FILES[key]}"/>'
                             "</action></nop>")
                lines.append(f'  <pause milliseconds="{KEY_GAP_MS}"/>')
                gaps.append(len(lines) - 1)
        elif step[0] == "pause":
            lines.append(f'  <pause milliseconds="{step[1]}"/>')
            clock += step[1]
        elif step[0] == "speech":  # 7.08 s of speech
            clock += 7300
            lines.append(f'  <nop><action><exec play_pcap_audio="{PCAPS / "g711a.pcap"}"/>'
                         "</action></nop>")
            lines.append('  <pause milliseconds="7300"/>')
    if gaps and gaps[-1] == len(lines) - 1:
        lines.pop()  # no pause after the last key: the gateway may hang up at once
    return "\n".join(lines) + "\n"


def short_flow(timeout: float = 2.0) -> Flow:
    raw = yaml.safe_load(DEFAULT_FLOW.read_text(encoding="utf-8"))
    raw["timeout"] = timeout
    return build_flow(raw, services=services.SERVICES)


async def call(tmp_path: Path, scenario: str, steps: tuple[tuple[Any, ...], ...], *,
               direct: bool = False, called: str = "12345") -> tuple[int | None, Any, str]:
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed: apt-get install -y sip-tester")
    base = random.randrange(30000, 39000, 10)
    config = GatewayConfig(sip_host="127.0.0.1", sip_port=0, rtp_host="127.0.0.1",
                           rtp_ports=(base, base + 9), recordings_dir=tmp_path / "recordings",
                           direct_to_agent=direct)
    gateway = build_gateway(config, flow=short_flow(), tts=ToneTts(seconds=0.08),
                            prompt_dir=tmp_path / "prompts")
    await gateway.start()
    xml = (SCENARIOS / scenario).read_text().replace("  <!-- KEYS -->\n", script(*steps))
    path = tmp_path / "scenario.xml"
    path.write_text(xml)
    error_file = tmp_path / "sipp_errors.log"
    process = await asyncio.create_subprocess_exec(
        shutil.which("sipp") or "sipp", "-sf", str(path), "-s", called,
        f"127.0.0.1:{gateway.sip_port}", "-i", "127.0.0.1", "-p", str(free_udp_port()),
        "-mp", str(free_udp_port()), "-m", "1", "-nostdin", "-timeout", "45s", "-timeout_error",
        "-trace_err", "-error_file", str(error_file),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    for _ in range(50):  # the call's end is written by a worker thread
        if gateway.entries("end"):
            break
        await asyncio.sleep(0.05)
    await gateway.stop()
    errors = error_file.read_text(errors="replace") if error_file.exists() else ""
    return process.returncode, gateway, errors + stderr.decode(errors="replace")


def run_call(tmp_path: Path, scenario: str, *steps: tuple[Any, ...],
             **options: Any) -> tuple[int | None, Any, str]:
    return asyncio.run(call(tmp_path, scenario, steps, **options))


@pytest.fixture(autouse=True)
def media_root(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"  # the summaries' msgids (the gateway uses the default language)


def test_recorded_complaint_confirmed_creates_an_order_and_speaks_its_number(city: City,
                                                                             tmp_path: Path) -> None:
    code, gateway, log = run_call(
        tmp_path, "ivr_gateway_hangs_up.xml",
        ("pause", 500), ("keys", "22"), ("speech",), ("keys", "#"), ("keys", "1"),
    )
    assert code == 0, log
    visits = gateway.entries("visit")
    assert visits[:3] == ["welcome", "self_service", "complaint"]
    assert visits[-3:] == ["complaint_save", "accepted", "goodbye"], visits
    order = Order.objects.get()
    assert order.type == "complaint" and order.channel == "phone"
    assert order.citizen.phone == CALLER
    assert numbering.is_valid(order.number)
    recording = order.attachments.get()
    assert recording.kind == Attachment.Kind.RECORDING and recording.content_type == "audio/wav"
    assert recording.size > 8000 * 2 * 5  # most of sipp's 7 s of speech, 16-bit at 8 kHz
    # the call's contact, with the path through the IVR (Contact.orders' reverse side)
    contact = order.contacts.get()  # type: ignore[attr-defined]
    assert contact.summary.startswith("IVR: welcome > self_service > complaint")
    rows = visits_for_contact(contact)
    assert [r.node for r in rows] == visits
    assert [(r.node, r.digits, r.outcome) for r in rows[:2]] == [
        ("welcome", "2", "chosen"), ("self_service", "2", "chosen")]
    assert [r.outcome for r in rows if r.node == "complaint"] == ["recorded"]
    assert all(r.duration_s >= 0 for r in rows) and rows[0].duration_s > 0
    # The acceptance number was read out: the play after the order has its digits.
    assert gateway.entries("service_result") == ["create_order:ok"]
    assert gateway.node_visits["accepted"] == 1
    # The working copy is gone once the call ended; the order keeps its own.
    assert not list((tmp_path / "recordings").rglob("*.wav"))
    with recording.file.open("rb") as stored:
        assert stored.read(4) == b"RIFF"


def test_status_query_bad_check_digit_asks_again_then_finds_the_callers_order(city: City,
                                                                              tmp_path: Path) -> None:
    order, _ = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="停水", text="三天没水", citizen_phone=CALLER))
    good = order.number
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    code, gateway, log = run_call(
        tmp_path, "ivr_caller_hangs_up.xml",
        ("pause", 500), ("keys", "23"), ("keys", bad), ("keys", good), ("keys", "1"),
        ("pause", 1500),
    )
    assert code == 0, log
    assert "query_enter:invalid" in gateway.entries("retry")
    visits = gateway.entries("visit")
    assert visits[visits.index("query_enter"):] == [
        "query_enter", "query_confirm", "query_lookup", "query_status", "query_more"], visits
    assert gateway.entries("service_result") == ["lookup_order:found"]


def test_status_query_of_somebody_elses_order_is_not_found(city: City, tmp_path: Path) -> None:
    order, _ = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="噪声", text="夜间施工", citizen_phone="13900001111"))
    code, gateway, log = run_call(
        tmp_path, "ivr_caller_hangs_up.xml",
        ("pause", 500), ("keys", "23"), ("keys", order.number), ("keys", "1"), ("pause", 1000),
    )
    assert code == 0, log
    assert "query_not_found" in gateway.entries("visit")
    assert "query_status" not in gateway.entries("visit")


def test_zero_at_a_menu_requests_a_transfer(city: City, tmp_path: Path) -> None:
    code, gateway, log = run_call(tmp_path, "ivr_gateway_hangs_up.xml",
                                  ("pause", 500), ("keys", "20"))
    assert code == 0, log
    assert gateway.entries("visit") == ["welcome", "self_service", "human"]
    assert gateway.entries("transfer") == ["human"]
    # No ACD yet: the default handler takes a call-back request and hangs up.
    assert Contact.objects.filter(citizen__phone=CALLER,
                                  summary__contains="transfer to human").exists()


def test_silence_reprompts_then_takes_a_call_back_request(city: City, tmp_path: Path) -> None:
    code, gateway, log = run_call(tmp_path, "ivr_gateway_hangs_up.xml", ("pause", 100))
    assert code == 0, log
    # Asked three times in all; the third silence goes to the fallback.
    assert gateway.entries("retry") == ["welcome:no_input"] * 3
    assert gateway.entries("visit") == ["welcome", "callback", "callback_done"]
    assert Contact.objects.filter(citizen__phone=CALLER, summary__contains="Call-back").exists()
    (call_contact,) = Contact.objects.filter(summary__startswith="IVR:")
    assert call_contact.summary == "IVR: welcome > callback > callback_done [ivr_hangup]"
    assert [(r.node, r.retries, r.outcome) for r in visits_for_contact(call_contact)] == [
        ("welcome", 3, "gave_up"), ("callback", 0, "service"), ("callback_done", 0, "ended")]


def test_direct_to_agent_mode_skips_the_menu(city: City, tmp_path: Path) -> None:
    code, gateway, log = run_call(tmp_path, "ivr_gateway_hangs_up.xml", ("pause", 100),
                                  direct=True)
    assert code == 0, log
    assert gateway.entries("visit") == ["human"]
    assert gateway.entries("transfer") == ["human"]


def test_mailbox_voicemail_becomes_a_suggestion_with_the_recording(city: City, tmp_path: Path) -> None:
    code, gateway, log = run_call(
        tmp_path, "ivr_gateway_hangs_up.xml",
        ("pause", 500), ("keys", "21"), ("pause", 1000), ("keys", "#"), ("keys", "1"),
    )
    assert code == 0, log
    assert gateway.entries("visit")[-4:] == ["mailbox", "mailbox_save", "accepted", "goodbye"]
    order = Order.objects.get()
    assert (order.type, order.channel, order.citizen.phone) == ("suggestion", "voicemail", CALLER)
    assert order.attachments.get().kind == Attachment.Kind.RECORDING


def test_consultation_reads_an_entry_and_registers_the_sms(city: City, tmp_path: Path) -> None:
    from tests.voice.test_voice_services import publish

    publish(city, for_voice=True)
    code, gateway, log = run_call(
        tmp_path, "ivr_caller_hangs_up.xml",
        ("pause", 500), ("keys", "24"), ("pause", 300), ("keys", "1"), ("keys", "1"),
        ("pause", 800),
    )
    assert code == 0, log
    visits = gateway.entries("visit")
    assert visits[2:] == ["consult_load", "consult_menu", "consult_read", "consult_sms",
                          "consult_send", "consult_sent", "consult_menu"], visits
    sms = Contact.objects.get(channel="sms")
    assert sms.citizen is not None
    assert sms.citizen.phone == CALLER and "请提前储水" in sms.summary


def test_keypad_poll_stores_the_answer(city: City, tmp_path: Path) -> None:
    code, gateway, log = run_call(
        tmp_path, "ivr_caller_hangs_up.xml",
        ("pause", 500), ("keys", "253"), ("pause", 800),
    )
    assert code == 0, log
    assert gateway.entries("visit")[2:] == ["poll", "poll_save", "poll_done", "self_service"]
    assert Contact.objects.filter(summary="poll: question=satisfaction, answer=3",
                                  citizen__phone=CALLER).exists()


def test_caller_hanging_up_before_confirming_loses_no_recording(city: City, tmp_path: Path) -> None:
    code, gateway, log = run_call(
        tmp_path, "ivr_caller_hangs_up.xml",
        ("pause", 500), ("keys", "22"), ("speech",), ("keys", "#"), ("pause", 300),
    )
    assert code == 0, log
    assert "complaint" in gateway.entries("visit")
    assert not Order.objects.exists()  # nothing was confirmed
    (kept,) = (tmp_path / "recordings").rglob("*.wav")  # but the caller's words are kept
    assert kept.stat().st_size > 8000 * 2 * 3
    assert kept.read_bytes()[:4] == b"RIFF"
