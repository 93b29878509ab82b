"""The outbound dialler end to end: the gateway claims OutboundCall rows and dials sipp, the
citizen's phone behind the trunk, over loopback on free ports.

sipp answers and presses keys (RFC 4733 events from its captures), is busy (486), never
answers (our ring timeout, then CANCEL), asks for digest (407 on the INVITE; 401 on REGISTER at
a registrar that grants 2 s, so the registration is refreshed). The calling rules are applied
by the gateway's claim: a number on the do-not-call list is never dialled, nothing is dialled
in quiet hours. The satisfaction survey runs end to end: the survey service queues the IVR
call for an order in 待回访 by the order type's policy, the gateway runs ``survey_flow.yaml``
with sipp pressing the keys (and speaking a comment), and the answer goes through the order's
lifecycle (closed, or reopened to the department with the recording) into the department's
rates. The gateway runs in this process over the transactional test database (its worker
threads must see the test's rows).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import random
import shutil
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import close_old_connections
from pytest_django.fixtures import Settings

from hotline.contactcentre.models import CallRecording
from hotline.insight import scoring
from hotline.insight.assessment_models import AssessmentRules, AssessmentScore
from hotline.insight.assessment_runs import month_of, score_month
from hotline.orders.models import Attachment, Contact, Order, OrderEvent
from hotline.outreach import callbacks, surveys
from hotline.outreach.calls import do_block_number, do_queue_call
from hotline.outreach.models import (
    CallAttempt,
    OutboundCall,
    Survey,
    SurveyPolicy,
    Trunk,
    TrunkStatus,
)
from hotline.voice.gateway import GatewayConfig, VoiceGateway
from hotline.voice.prompts import ToneTts
from hotline.voice.server import build_gateway
from tests.conftest import City
from tests.outreach.conftest import order_in_callback
from tests.voice.test_gateway_sipp import script
from tests.voice.test_udp_sipp import SCENARIOS, free_udp_port

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CITIZEN = "13800138000"
SURVEY = {
    "name": "survey", "start": "ask", "operator": "bye", "fallback": "bye", "timeout": 4,
    "nodes": {
        "ask": {"type": "menu", "prompt": "{name}您好，满意请按1，基本满意请按2，不满意请按3。",
                "var": "satisfaction", "choices": {"1": "comment", "2": "comment", "3": "comment"}},
        "comment": {"type": "record", "prompt": "请留言，按井号键结束。", "var": "comment",
                    "max_seconds": 20, "confirm_prompt": "确认请按1。", "next": "thanks",
                    "cancel": "thanks"},
        "thanks": {"type": "hangup", "prompt": "谢谢，再见。"},
        "bye": {"type": "hangup", "prompt": "再见。"},
    },
}
KEYS_ONLY = {
    "name": "keys", "start": "ask", "operator": "bye", "fallback": "bye", "timeout": 4,
    "nodes": {
        "ask": {"type": "menu", "prompt": "问题解决了吗？解决请按1，未解决请按2。",
                "var": "resolved", "choices": {"1": "thanks", "2": "thanks"}},
        "thanks": {"type": "hangup", "prompt": "谢谢。"},
        "bye": {"type": "hangup", "prompt": "再见。"},
    },
}
DIALOG = """\
      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="caller"/>
      <ereg regexp=".*" search_in="hdr" header="To:" check_it="true" assign_to="callee"/>
      <ereg regexp="sip:[^&gt;;]*" search_in="hdr" header="Contact:" check_it="true" assign_to="contact"/>
"""


def _expected_digest(uri: str) -> str:
    """The answer to outbound_auth.xml's 407 (no qop: deterministic): sipp's own verifyauth
    reads only Authorization, so the scenario compares the Proxy-Authorization's response."""
    ha1 = hashlib.md5(b"gw1:trunk.example:trunk-pw").hexdigest()
    ha2 = hashlib.md5(f"INVITE:{uri}".encode()).hexdigest()
    return hashlib.md5(f"{ha1}:9d1f00c2aa81e3:{ha2}".encode()).hexdigest()


VERIFY = ('<ereg regexp="response=.{hex}." search_in="hdr" header="Proxy-Authorization:" '
          'check_it="true" assign_to="auth_ok"/><log message="auth=[$auth_ok]"/>')



@pytest.fixture(autouse=True)
def _setup(settings: Settings, tmp_path: Path) -> None:
    if shutil.which("sipp") is None:
        pytest.fail("sipp is not installed: apt-get install -y sip-tester")
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"
    # No quiet hours unless a test sets them (the tests run at any time of day).
    settings.HOTLINE_OUTREACH_QUIET_START = dt.time(0, 0)
    settings.HOTLINE_OUTREACH_QUIET_END = dt.time(0, 0)


def citizen_scenario(tmp_path: Path, steps: tuple[tuple[Any, ...], ...], *,
                     citizen_hangs_up: bool = False, auth: str = "") -> Path:
    xml = (SCENARIOS / "outbound_answers.xml").read_text()
    end = "outbound_end_citizen_bye.xml" if citizen_hangs_up else "outbound_end_gateway_bye.xml"
    xml = xml.replace("  <!-- KEYS -->\n", script(*steps))
    xml = xml.replace("  <!-- END -->\n", (SCENARIOS / end).read_text())
    xml = xml.replace("      <!-- DIALOG -->\n", DIALOG if citizen_hangs_up else "")
    if auth:
        xml = xml.replace("  <!-- AUTH -->\n", (SCENARIOS / "outbound_auth.xml").read_text())
        xml = xml.replace("<!-- VERIFY -->", VERIFY.format(hex=_expected_digest(auth)))
    path = tmp_path / f"citizen-{random.randrange(10**6)}.xml"
    path.write_text(xml)
    return path


class Sipp:
    """sipp as a UAS on a free port, in the background."""

    def __init__(self, tmp_path: Path, scenario: Path, calls: int = 1, timeout: int = 40) -> None:
        self.directory = tmp_path / f"sipp-{random.randrange(10**6)}"
        self.directory.mkdir(parents=True)
        self.scenario, self.calls, self.timeout = scenario, calls, timeout
        self.port = free_udp_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def log_path(self) -> Path:
        return self.directory / "log.txt"

    async def start(self) -> None:
        errors = self.directory / "errors.log"
        self.process = await asyncio.create_subprocess_exec(
            shutil.which("sipp") or "sipp", "-sf", str(self.scenario), "-i", "127.0.0.1",
            "-p", str(self.port), "-mp", str(free_udp_port() & ~1), "-m", str(self.calls),
            "-nostdin", "-timeout", f"{self.timeout}s", "-timeout_error", "-trace_err",
            "-error_file", str(errors), "-trace_logs", "-log_file", str(self.log_path),
            cwd=self.directory, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        await asyncio.sleep(0.3)  # let sipp bind its port

    async def result(self, timeout: float = 45) -> tuple[int, str]:
        assert self.process is not None
        try:
            _, stderr = await asyncio.wait_for(self.process.communicate(), timeout)
        except TimeoutError:
            self.process.kill()
            _, stderr = await self.process.communicate()
        errors = self.directory / "errors.log"
        text = errors.read_text(errors="replace") if errors.exists() else ""
        return self.process.returncode or 0, text + stderr.decode(errors="replace")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    def logged(self, name: str) -> list[str]:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return [line.split("=", 1)[1].strip() for line in text.splitlines()
                if line.startswith(f"{name}=")]


def gateway_for(tmp_path: Path, *, trunk: tuple[str, int] | None = None, ring_s: float = 45.0,
                acd: bool = False) -> VoiceGateway:
    base = random.randrange(30000, 39000, 20)
    config = GatewayConfig(sip_port=free_udp_port(), rtp_ports=(base, base + 19),
                           recordings_dir=tmp_path / "recordings", gateway_id="gw-test",
                           trunk=trunk, outbound_ring_s=ring_s, acd=acd, send_faxes=False)
    return build_gateway(config, tts=ToneTts(seconds=0.2), prompt_dir=tmp_path / "prompts")


async def db(function: Any, *args: Any, **kwargs: Any) -> Any:
    def run() -> Any:
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return await asyncio.to_thread(run)


async def until(check: Any, seconds: float = 30.0) -> Any:
    for _ in range(int(seconds / 0.1)):
        if result := await db(check):
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"not reached in {seconds} s: {check}")


def attempts_of(call: OutboundCall) -> list[CallAttempt]:
    return list(CallAttempt.objects.filter(call=call).order_by("pk"))


def finished(pk: int, count: int = 1) -> Any:
    def check() -> Any:
        call = OutboundCall.objects.get(pk=pk)
        return call if call.attempts >= count and call.state != OutboundCall.State.DIALLING \
            else None

    return check


def queue(city: City, flow: Any = None, number: str = CITIZEN, **options: Any) -> OutboundCall:
    return do_queue_call(number, options.pop("purpose", "test"), options.pop("mode", "ivr"),
                         flow=flow if flow is not None else KEYS_ONLY, **options)


async def run_with(tmp_path: Path, sipps: list[Sipp], gateway: VoiceGateway, work: Any) -> Any:
    for sipp in sipps:
        await sipp.start()
    await gateway.start(warm=False)
    try:
        return await work()
    finally:
        await gateway.stop()
        for sipp in sipps:
            await sipp.stop()


# --- answered -------------------------------------------------------------------------------

def ivr_survey_for(city: City) -> tuple[Order, Survey]:
    """The centre's per-order-type policy: agents call citizens back by default, complaints are
    asked by the IVR survey first (then SMS, then an agent). A complaint's reply is accepted
    (待回访); the periodic call-back job starts the survey instead of an agent's task."""
    SurveyPolicy.objects.create(order_type="", methods="agent")
    SurveyPolicy.objects.create(order_type="complaint", methods="ivr,sms,agent")
    AssessmentRules.objects.get_or_create(effective_from=dt.date(2000, 1, 1), defaults={
        "definition": scoring.DEFAULT_DEFINITION, "note": "the default rules"})
    order = order_in_callback(city)
    assert order.type == "complaint" and order.state == "callback"
    assert callbacks.do_queue_visits() == 0  # no agent's task: the survey asks
    survey = Survey.objects.get(order=order)
    assert (survey.state, survey.method) == (Survey.State.ASKING, "ivr")
    assert survey.call is not None and survey.call.flow == surveys.survey_flow()
    return order, survey


def run_survey(tmp_path: Path, survey: Survey, keys: tuple[tuple[Any, ...], ...]
               ) -> tuple[OutboundCall, Survey, Sipp, int, str]:
    """The gateway runs the survey flow with sipp as the citizen pressing ``keys``, through the
    ``Trunk`` row (its outbound proxy is sipp); the survey is told when the call ends."""
    sipp = Sipp(tmp_path, citizen_scenario(tmp_path, keys))
    Trunk.objects.create(name="carrier", registrar_host="127.0.0.1", registrar_port=1,
                         register=False, caller_id="12345", max_concurrent=2,
                         outbound_proxy=f"127.0.0.1:{sipp.port}")
    gateway = gateway_for(tmp_path)
    assert survey.call_id is not None
    call_id = survey.call_id

    def answered() -> Survey | None:
        row = Survey.objects.get(pk=survey.pk)
        return row if row.state != Survey.State.ASKING else None

    async def work() -> Any:
        done = await until(finished(call_id), 60)
        told = await until(answered, 20)
        return done, told, await sipp.result()

    done, told, (code, log) = asyncio.run(run_with(tmp_path, [sipp], gateway, work))
    return done, told, sipp, code, log


def unit_rates(order: Order) -> AssessmentScore:
    """The department's month as the assessment (三率) stores it."""
    month = month_of(order.created_at)
    score_month(month)
    return AssessmentScore.objects.get(month=month, unit__code="water")


def test_an_ivr_survey_answered_resolved_and_satisfied_closes_the_order(
        city: City, tmp_path: Path) -> None:
    order, survey = ivr_survey_for(city)
    # resolved? 1; satisfied? 1; a comment? 2 (no): thanks, and the gateway hangs up.
    done, told, sipp, code, log = run_survey(tmp_path, survey, (
        ("pause", 1500), ("keys", "1"), ("pause", 1000), ("keys", "1"), ("pause", 1000),
        ("keys", "2")))
    assert code == 0, log
    assert sipp.logged("number") == [order.citizen.phone]
    assert done.outcome == "answered"
    assert done.result["path"] == ["intro", "resolved", "satisfaction", "comment_offer",
                                   "thanks"]
    assert done.result["vars"] == {"resolved": "1", "satisfaction": "1", "wants_comment": "2"}
    assert (told.state, told.answered_by, told.resolved, told.satisfaction) == (
        Survey.State.ANSWERED, "ivr", True, "satisfied")
    order.refresh_from_db()
    assert (order.state, order.resolved, order.satisfaction) == ("closed", True, "satisfied")
    event = OrderEvent.objects.filter(order=order).order_by("-seq").first()
    assert event is not None and event.action == "callback"
    assert event.data["satisfaction"] == "satisfied" and event.data["resolved"] is True
    assert "ivr survey" in event.note and "已解决" in event.note and "满意" in event.note
    # The outbound contact of the survey call is in the order's contacts.
    assert done.contact_id is not None
    contact = Contact.objects.get(pk=done.contact_id)
    assert list(contact.orders.all()) == [order]
    assert callbacks.do_queue_visits() == 0  # closed: no agent calls back
    rates = unit_rates(order)
    assert (rates.answered, rates.resolved, rates.rated) == (1, 1, 1)
    assert (rates.resolution_rate, rates.satisfaction_rate) == (1.0, 1.0)


def test_an_ivr_survey_not_resolved_and_unsatisfied_reopens_with_the_recorded_comment(
        city: City, tmp_path: Path) -> None:
    from hotline.orders.attachments import visible_attachments

    order, survey = ivr_survey_for(city)
    # resolved? 2 (no); satisfied? 3 (不满意); a comment? 1: speech, # ends it, 1 confirms.
    done, told, sipp, code, log = run_survey(tmp_path, survey, (
        ("pause", 1500), ("keys", "2"), ("pause", 1000), ("keys", "3"), ("pause", 1000),
        ("keys", "1"), ("pause", 1200), ("speech",), ("keys", "#"), ("pause", 800),
        ("keys", "1")))
    assert code == 0, log
    assert done.state == OutboundCall.State.DONE and done.outcome == "answered"
    assert done.result["path"] == ["intro", "resolved", "satisfaction", "comment_offer",
                                   "comment", "thanks"]
    keys = done.result["vars"]
    assert (keys["resolved"], keys["satisfaction"], keys["wants_comment"]) == ("2", "3", "1")
    assert "number" not in keys  # what the owner passed is not echoed
    (attempt,) = attempts_of(done)
    assert attempt.outcome == "answered" and attempt.sip_status == 200
    assert attempt.answered_at is not None and attempt.talk_seconds >= 7
    # caller id in From and P-Asserted-Identity, the number in the Request-URI
    assert sipp.logged("number") == [order.citizen.phone]
    assert sipp.logged("from") == ["12345"] and sipp.logged("pai") == ["12345"]
    # the outbound contact, linked to the order, with the recording stored durably
    assert done.contact_id is not None
    contact = Contact.objects.get(pk=done.contact_id)
    assert contact.direction == Contact.Direction.OUTBOUND and contact.channel == "phone"
    assert list(contact.orders.all()) == [order]
    assert contact.summary.startswith("IVR: intro > resolved > satisfaction")
    recording = CallRecording.objects.get(contact=contact)
    assert recording.seconds > 5
    assert keys["comment"] == recording.file.name == told.recording
    assert not list((tmp_path / "recordings").rglob("*.wav"))  # the working copy is gone

    # The answer through the lifecycle: back to the department (重办), the comment with it.
    assert (told.state, told.resolved, told.satisfaction) == (
        Survey.State.ANSWERED, False, "unsatisfied")
    order.refresh_from_db()
    assert (order.state, order.reopen_count, order.resolved, order.satisfaction) == (
        "handling", 1, False, "unsatisfied")
    event = OrderEvent.objects.filter(order=order).order_by("-seq").first()
    assert event is not None and event.action == "reopen"
    assert event.data["satisfaction"] == "unsatisfied" and event.data["resolved"] is False
    assert "未解决" in event.note and "不满意" in event.note and "录音" in event.note
    (heard,) = visible_attachments(city.handler, order)  # the department hears the comment
    assert heard.kind == Attachment.Kind.RECORDING and heard.file.name == recording.file.name
    rates = unit_rates(order)
    assert (rates.answered, rates.resolved, rates.rated) == (1, 0, 1)
    assert (rates.resolution_rate, rates.satisfaction_rate) == (0.0, 0.0)


def test_a_recording_cut_short_by_the_citizen_hanging_up_is_stored(city: City,
                                                                   tmp_path: Path) -> None:
    sipp = Sipp(tmp_path, citizen_scenario(
        tmp_path, (("pause", 1200), ("keys", "3"), ("pause", 1000), ("speech",)),
        citizen_hangs_up=True))
    call = queue(city, SURVEY, variables={"name": ""})
    gateway = gateway_for(tmp_path, trunk=("127.0.0.1", sipp.port))

    async def work() -> Any:
        done = await until(finished(call.pk), 40)
        return done, await sipp.result()

    done, (code, log) = asyncio.run(run_with(tmp_path, [sipp], gateway, work))
    assert code == 0, log
    assert done.outcome == "answered"
    assert done.result["vars"]["satisfaction"] == "3"
    recording = CallRecording.objects.get(contact_id=done.contact_id)
    assert done.result["vars"]["comment"] == recording.file.name
    assert recording.seconds > 5


def test_trunk_asks_for_digest_on_the_invite(city: City, tmp_path: Path) -> None:
    sipp = Sipp(tmp_path, citizen_scenario(tmp_path, (("pause", 1000), ("keys", "1")),
                                           auth=f"sip:{CITIZEN}@trunk.example"))
    Trunk.objects.create(name="carrier", registrar_host="127.0.0.1", registrar_port=sipp.port,
                         domain="trunk.example", username="gw1", password="trunk-pw",
                         register=False, caller_id="12345")
    call = queue(city)
    gateway = gateway_for(tmp_path)

    async def work() -> Any:
        done = await until(finished(call.pk), 30)
        return done, await sipp.result()

    done, (code, log) = asyncio.run(run_with(tmp_path, [sipp], gateway, work))
    assert code == 0, log  # sipp checked our Proxy-Authorization itself
    assert done.outcome == "answered" and done.result["vars"] == {"resolved": "1"}


def test_registers_with_digest_refreshes_and_dials_through_the_outbound_proxy(
        city: City, tmp_path: Path) -> None:
    registrar = Sipp(tmp_path, SCENARIOS / "uas_registrar_refresh.xml", timeout=30)
    citizen = Sipp(tmp_path, citizen_scenario(tmp_path, (("pause", 800), ("keys", "2"))))
    Trunk.objects.create(name="carrier", registrar_host="127.0.0.1",
                         registrar_port=registrar.port, domain="trunk.example",
                         outbound_proxy=f"127.0.0.1:{citizen.port}", username="1001",
                         password="s3cret", register=True, register_expires=60,
                         caller_id="12345")
    call = queue(city)
    gateway = gateway_for(tmp_path)

    async def work() -> Any:
        done = await until(finished(call.pk), 30)
        for _ in range(60):  # granted 2 s: refreshed after 1.6 s
            if gateway.outbound.registrations >= 2:
                break
            await asyncio.sleep(0.1)
        status = await db(lambda: TrunkStatus.objects.get(gateway="gw-test"))
        return done, status, await registrar.result(), await citizen.result()

    done, status, (reg_code, reg_log), (code, log) = asyncio.run(
        run_with(tmp_path, [registrar, citizen], gateway, work))
    assert reg_code == 0, reg_log  # both REGISTERs answered with the right digest
    assert gateway.outbound.registrations >= 2
    assert code == 0, log
    assert done.outcome == "answered" and done.result["vars"] == {"resolved": "2"}
    assert status.state == "registered" and status.trunk_name == "carrier"
    assert status.expires_at is not None


def test_a_wrong_password_is_shown_as_a_failed_registration_and_nothing_is_dialled(
        city: City, tmp_path: Path) -> None:
    registrar = Sipp(tmp_path, SCENARIOS / "uas_registrar.xml", timeout=10)
    Trunk.objects.create(name="carrier", registrar_host="127.0.0.1",
                         registrar_port=registrar.port, domain="trunk.example",
                         username="1001", password="wrong", register=True)
    call = queue(city)
    gateway = gateway_for(tmp_path)

    async def work() -> Any:
        status = await until(lambda: TrunkStatus.objects.filter(
            gateway="gw-test", state="failed").first(), 15)
        await asyncio.sleep(0.5)
        return status

    status = asyncio.run(run_with(tmp_path, [registrar], gateway, work))
    assert status.sip_status == 403
    call.refresh_from_db()
    assert call.state == OutboundCall.State.QUEUED and call.attempts == 0


# --- not answered -----------------------------------------------------------------------------

def test_busy_is_recorded_and_retried_later(city: City, tmp_path: Path) -> None:
    sipp = Sipp(tmp_path, SCENARIOS / "uas_busy.xml")
    call = queue(city)
    gateway = gateway_for(tmp_path, trunk=("127.0.0.1", sipp.port))

    async def work() -> Any:
        done = await until(finished(call.pk), 20)
        return done, await sipp.result()

    done, (code, log) = asyncio.run(run_with(tmp_path, [sipp], gateway, work))
    assert code == 0, log
    (attempt,) = attempts_of(done)
    assert (attempt.outcome, attempt.sip_status) == ("busy", 486)
    assert done.state == OutboundCall.State.QUEUED  # the rules try again in 10 minutes
    assert done.next_try_at > attempt.ended_at + dt.timedelta(minutes=9)
    assert done.contact_id is None


def test_never_answers_rings_until_our_timeout_then_cancels(city: City, tmp_path: Path) -> None:
    sipp = Sipp(tmp_path, SCENARIOS / "uas_never_answers.xml")
    call = queue(city, max_attempts=1)
    gateway = gateway_for(tmp_path, trunk=("127.0.0.1", sipp.port), ring_s=2.0)

    async def work() -> Any:
        done = await until(finished(call.pk), 20)
        return done, await sipp.result()

    done, (code, log) = asyncio.run(run_with(tmp_path, [sipp], gateway, work))
    assert code == 0, log  # sipp got our CANCEL with the INVITE's branch
    (attempt,) = attempts_of(done)
    assert attempt.outcome == "no_answer" and attempt.sip_status == 487
    assert 1.5 <= (attempt.ended_at - attempt.started_at).total_seconds() < 10
    assert done.state == OutboundCall.State.DONE and done.outcome == "no_answer"


def test_no_response_from_the_trunk_fails(city: City, tmp_path: Path) -> None:
    from hotline.voice.outbound import outcome_for

    # Timer B (32 s) is too long for a test: the mapping itself.
    assert outcome_for(408, responded=False) == "failed"
    assert outcome_for(408) == "no_answer" and outcome_for(480) == "no_answer"
    assert outcome_for(0, timed_out=True, responded=False) == "failed"
    assert outcome_for(487, timed_out=True) == "no_answer"
    assert [outcome_for(s) for s in (486, 600)] == ["busy", "busy"]
    assert [outcome_for(s) for s in (603, 403, 404, 484)] == ["rejected"] * 4
    assert [outcome_for(s) for s in (500, 503, 0, 488)] == ["failed"] * 4


# --- the calling rules at the gateway's claim ---------------------------------------------------

def test_do_not_call_and_quiet_hours_are_honoured_by_the_claim(city: City, tmp_path: Path,
                                                               settings: Settings) -> None:
    sipp = Sipp(tmp_path, citizen_scenario(tmp_path, (("pause", 800), ("keys", "1"))))
    blocked = queue(city, number="13900000001")
    allowed = queue(city, number="13900000002")
    do_block_number(city.admin, "13900000001", "asked not to be called")
    gateway = gateway_for(tmp_path, trunk=("127.0.0.1", sipp.port))

    async def work() -> Any:
        done = await until(finished(allowed.pk), 20)
        return done, await sipp.result()

    done, (code, log) = asyncio.run(run_with(tmp_path, [sipp], gateway, work))
    assert code == 0, log
    assert done.outcome == "answered"
    assert sipp.logged("number") == ["13900000002"]
    blocked.refresh_from_db()
    assert blocked.state == OutboundCall.State.BLOCKED and not attempts_of(blocked)

    # Quiet hours now (local time): the gateway dials nothing; the row waits for their end.
    zone = zoneinfo.ZoneInfo(django_settings.TIME_ZONE)
    local = dt.datetime.now(zone)
    quiet = queue(city, number="13900000003")
    settings.HOTLINE_OUTREACH_QUIET_START = (local - dt.timedelta(hours=1)).time().replace(
        second=0, microsecond=0)
    settings.HOTLINE_OUTREACH_QUIET_END = (local + dt.timedelta(hours=1)).time().replace(
        second=0, microsecond=0)
    gateway = gateway_for(tmp_path, trunk=("127.0.0.1", free_udp_port()))

    async def idle() -> None:
        await asyncio.sleep(2.0)

    asyncio.run(run_with(tmp_path, [], gateway, idle))
    quiet.refresh_from_db()
    assert quiet.state == OutboundCall.State.QUEUED and not attempts_of(quiet)
    assert quiet.next_try_at > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=50)
    assert not gateway.outbound.reports


def test_concurrent_calls_are_capped_at_the_trunks_limit(city: City, tmp_path: Path) -> None:
    sipp = Sipp(tmp_path, citizen_scenario(tmp_path, (("pause", 1500), ("keys", "1"))), calls=4)
    Trunk.objects.create(name="carrier", registrar_host="127.0.0.1", registrar_port=sipp.port,
                         register=False, max_concurrent=2)
    calls = [queue(city, number=f"1390000001{i}") for i in range(4)]
    gateway = gateway_for(tmp_path)

    async def work() -> Any:
        for call in calls:
            await until(finished(call.pk), 40)
        return await sipp.result()

    code, log = asyncio.run(run_with(tmp_path, [sipp], gateway, work))
    assert code == 0, log
    assert gateway.outbound.peak == 2
    assert sorted(OutboundCall.objects.values_list("outcome", flat=True)) == ["answered"] * 4
