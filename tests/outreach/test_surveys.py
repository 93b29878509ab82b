"""The satisfaction survey end to end, playing the gateway (claim_call, do_finish_attempt
with the flow's keys) and the SMS provider's webhook: the answer lands on the order through
the lifecycle (callback or reopen, the history event's data), a call not answered falls back
to the SMS, a digit reply is the survey's and no new order, the policy per order type, TD and
the do-not-call list honoured, and a survey overtaken by the portal's rating cancelled."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from hotline.intake.models import SmsMessage, SmsOptOut
from hotline.intake.sms.outbound import LOG_OUTBOX
from hotline.intake.sms.webhook import sign
from hotline.orders.citizen_feedback import do_citizen_rating
from hotline.orders.lifecycle import State
from hotline.orders.models import Order, OrderEvent
from hotline.orders.services import NewOrder, do_action, do_create_order
from hotline.outreach import calls, surveys
from hotline.outreach.models import DoNotCall, OutboundCall, Outcome, Purpose, Survey, SurveyPolicy

pytestmark = pytest.mark.django_db

SECRET = "test-webhook-secret-0123456789"
PHONE = "13800001111"


@pytest.fixture(autouse=True)
def _sms(settings: Any) -> None:
    settings.HOTLINE_SMS_PROVIDER = "log"
    settings.HOTLINE_SMS_WEBHOOK_SECRET = SECRET
    settings.HOTLINE_OUTREACH_QUIET_START = settings.HOTLINE_OUTREACH_QUIET_END  # call any time
    LOG_OUTBOX.clear()


def answered_order(city: Any, **over: Any) -> Order:
    """An order whose reply the centre accepted: 待回访, ready to be surveyed."""
    fields: dict[str, Any] = {"type": "complaint", "channel": "phone", "title": "停水",
                              "text": "东街小区停水", "citizen_phone": PHONE,
                              "district": "gulou", "category": "100101"}
    fields.update(over)
    order = do_create_order(city.agent, NewOrder(**fields))[0]
    do_action(city.agent, order.number, "dispatch", {"unit": "water", "co_units": []})
    do_action(city.handler, order.number, "sign")
    do_action(city.handler, order.number, "reply", {"reply": "已修复爆管，恢复供水"})
    do_action(city.agent, order.number, "approve_reply")
    order.refresh_from_db()
    assert order.state == State.CALLBACK
    return order


def play_gateway(outcome: str, keys: dict[str, str] | None = None) -> OutboundCall:
    """What the dialler does: claim the due call, report the attempt, the owner is told."""
    job = calls.claim_call("gw-test")
    assert job is not None and job.purpose == Purpose.SURVEY
    result = {"vars": keys or {}, "path": ["intro", "resolved", "satisfaction"]}
    calls.do_finish_attempt(job.id, outcome, result=result if keys else None,
                            answered_at=timezone.now() if outcome == Outcome.ANSWERED else None)
    calls.do_tell_owners()  # on_commit does not run inside the test's transaction
    return OutboundCall.objects.get(pk=job.id)


def sms_in(client: Client, message_id: str, text: str, phone: str = PHONE) -> Any:
    body = json.dumps({"type": "inbound", "id": message_id, "from": phone, "to": "12345",
                       "text": text}, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    return client.post("/intake/sms/webhook/", body, content_type="application/json",
                       HTTP_X_HOTLINE_TIMESTAMP=stamp,
                       HTTP_X_HOTLINE_SIGNATURE=sign(SECRET, stamp, body))


def last_event(order: Order) -> OrderEvent:
    event = OrderEvent.objects.filter(order=order).order_by("-seq").first()
    assert event is not None
    return event


def test_the_ivr_survey_is_a_queued_call_and_a_satisfied_answer_closes_the_order(
        city: Any) -> None:
    order = answered_order(city)
    survey = surveys.start_survey(order)
    assert survey is not None and (survey.state, survey.method) == ("asking", "ivr")
    assert surveys.start_survey(order) == survey  # started once
    call = OutboundCall.objects.get()
    assert (call.purpose, call.mode, call.ref) == ("survey", "ivr", f"survey:{survey.pk}")
    assert call.flow == surveys.survey_flow() and call.variables == {"number": order.number}
    assert call.number == PHONE and call.order == order
    play_gateway(Outcome.ANSWERED, {"resolved": "1", "satisfaction": "1", "wants_comment": "2"})
    survey.refresh_from_db()
    order.refresh_from_db()
    assert (survey.state, survey.answered_by, survey.satisfaction, survey.resolved) == (
        "answered", "ivr", "satisfied", True)
    assert (order.state, order.satisfaction, order.resolved) == (State.CLOSED, "satisfied", True)
    event = last_event(order)
    assert event.action == "callback" and event.actor is not None
    assert event.actor.username == "system"
    assert event.data == {"resolved": True, "satisfaction": "satisfied"}
    assert "IVR" in event.note.upper() and "满意" in event.note


def wav(path: Any) -> str:
    import wave

    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x01" * 8000)
    return str(path)


def test_unsatisfied_with_a_recorded_comment_goes_back_to_the_department(
        city: Any, settings: Any, tmp_path: Any) -> None:
    from hotline.orders.attachments import visible_attachments

    settings.DATA_DIR, settings.MEDIA_ROOT = tmp_path / "var", tmp_path / "media"
    comment = wav(tmp_path / "var" / "recordings" / "2026-12-03" / "survey-1.wav")
    order = answered_order(city)
    survey = surveys.start_survey(order)
    assert survey is not None
    play_gateway(Outcome.ANSWERED, {"resolved": "2", "satisfaction": "3", "wants_comment": "1",
                                    "comment": comment})
    order.refresh_from_db()
    survey.refresh_from_db()
    assert (order.state, order.satisfaction, order.resolved, order.reopen_count) == (
        State.HANDLING, "unsatisfied", False, 1)
    event = last_event(order)
    assert event.action == "reopen" and event.data["satisfaction"] == "unsatisfied"
    assert "未解决" in event.note and "不满意" in event.note and "录音" in event.note
    assert survey.recording == comment
    (attached,) = visible_attachments(city.handler, order)  # the unit hears the comment
    assert attached.kind == "recording" and attached.name.startswith("survey-comment-")


def test_a_reports_recorded_comment_never_reaches_the_department(
        city: Any, settings: Any, tmp_path: Any) -> None:
    from hotline.orders.attachments import visible_attachments

    settings.DATA_DIR, settings.MEDIA_ROOT = tmp_path / "var", tmp_path / "media"
    comment = wav(tmp_path / "var" / "recordings" / "survey-2.wav")
    order = answered_order(city, type="report", title="举报", text="某单位违规收费")
    surveys.start_survey(order)
    play_gateway(Outcome.ANSWERED, {"resolved": "2", "satisfaction": "3", "comment": comment})
    order.refresh_from_db()
    assert order.state == State.HANDLING and order.attachments.count() == 1
    assert not visible_attachments(city.handler, order).exists()
    assert visible_attachments(city.agent, order).count() == 1


def test_a_comment_path_outside_the_data_directory_is_not_attached(
        city: Any, settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR, settings.MEDIA_ROOT = tmp_path / "var", tmp_path / "media"
    elsewhere = wav(tmp_path / "elsewhere" / "x.wav")
    order = answered_order(city)
    surveys.start_survey(order)
    play_gateway(Outcome.ANSWERED, {"resolved": "1", "satisfaction": "2", "comment": elsewhere})
    order.refresh_from_db()
    assert order.state == State.CLOSED and not order.attachments.exists()


def test_a_call_never_answered_falls_back_to_the_sms_and_a_digit_reply_answers_it(
        city: Any, client: Client, settings: Any) -> None:
    settings.HOTLINE_OUTREACH_MAX_ATTEMPTS = 1
    order = answered_order(city)
    survey = surveys.start_survey(order)
    assert survey is not None
    call = play_gateway(Outcome.NO_ANSWER)
    assert call.state == OutboundCall.State.DONE
    survey.refresh_from_db()
    assert (survey.state, survey.method, survey.tried) == ("asking", "sms", ["ivr", "sms"])
    assert survey.waits_until is not None
    (invitation,) = LOG_OUTBOX
    assert invitation.phone == PHONE and order.number in invitation.text
    assert "满意回复1" in invitation.text and "回复TD退订" in invitation.text
    link = re.search(r"http://\S+", invitation.text)
    assert link is not None and link.group(0).endswith(f"/citizen/survey/{survey.token}/")
    orders_before = Order.objects.count()
    r = sms_in(client, "in-1", "２")
    assert r.status_code == 200 and r.json()["outcome"] == "contact"
    assert Order.objects.count() == orders_before  # the digit is the survey's, no new order
    order.refresh_from_db()
    survey.refresh_from_db()
    assert (order.state, order.satisfaction) == (State.CLOSED, "basic")
    assert (survey.state, survey.answered_by) == ("answered", "sms")
    thanks = LOG_OUTBOX[-1]
    assert thanks.phone == PHONE and "感谢" in thanks.text and order.number in thanks.text
    logged = SmsMessage.objects.get(direction="in", provider_id="in-1")
    assert (logged.purpose, logged.order) == ("survey-reply", order)
    # The provider retries the same message: taken once, no order, no second thanks.
    sent = len(LOG_OUTBOX)
    assert sms_in(client, "in-1", "２").json()["outcome"] == "contact"
    assert Order.objects.count() == orders_before and len(LOG_OUTBOX) == sent
    # A later "1" with no survey waiting is an ordinary message again.
    assert sms_in(client, "in-2", "1").json()["outcome"] in ("created", "attached")


def test_words_while_a_survey_waits_are_a_message_not_an_answer(city: Any,
                                                                client: Client) -> None:
    SurveyPolicy.objects.create(order_type="complaint", methods="sms")
    order = answered_order(city)
    survey = surveys.start_survey(order)
    assert survey is not None and survey.method == "sms"
    r = sms_in(client, "in-3", f"{order.number} 水还是浑的")
    assert r.json()["outcome"] == "attached"
    survey.refresh_from_db()
    assert survey.state == "asking"


def test_the_policy_chooses_per_order_type_and_hands_over_to_an_agent_last(
        city: Any, settings: Any) -> None:
    SurveyPolicy.objects.create(order_type="complaint", methods="agent")
    SurveyPolicy.objects.create(order_type="", methods="sms,agent", sms_wait_hours=1)
    complaint = answered_order(city)
    assert surveys.first_method(complaint) == "agent"
    assert surveys.start_survey(complaint) is None and not Survey.objects.exists()
    help_order = answered_order(city, type="help", citizen_phone="13800002222")
    survey = surveys.start_survey(help_order)
    assert survey is not None and survey.method == "sms" and len(LOG_OUTBOX) == 1
    assert surveys.do_sweep_surveys(timezone.now()) == {"moved_on": 0, "cancelled": 0}
    later = timezone.now() + dt.timedelta(hours=2)
    assert surveys.do_sweep_surveys(later) == {"moved_on": 1, "cancelled": 0}
    survey.refresh_from_db()
    assert (survey.state, survey.tried) == ("agent", ["sms", "agent"])
    assert list(surveys.surveys_for_agents()) == [survey]


def test_td_and_the_do_not_call_list_are_honoured(city: Any) -> None:
    SmsOptOut.objects.create(phone=PHONE, at=timezone.now())
    DoNotCall.objects.create(phone=PHONE, added_at=timezone.now())
    order = answered_order(city)
    survey = surveys.start_survey(order)
    assert survey is not None
    # The default policy ends with a person; the blocked number is for the agent to settle.
    assert (survey.state, survey.tried) == ("agent", ["ivr", "sms", "agent"])
    assert not OutboundCall.objects.exists() and not LOG_OUTBOX
    assert surveys.start_sms_survey(order).state == "unanswered"


def test_the_sms_survey_goes_out_through_the_http_gateway(city: Any, settings: Any) -> None:
    from http.server import HTTPServer
    from threading import Thread

    from tests.intake.sms.test_sms import Gateway

    server = HTTPServer(("127.0.0.1", 0), Gateway)
    Thread(target=server.serve_forever, daemon=True).start()
    Gateway.received, Gateway.fail = [], False
    settings.HOTLINE_SMS_PROVIDER = "http"
    settings.HOTLINE_SMS_HTTP_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.HOTLINE_SMS_HTTP_KEY = "gw-key"
    try:
        order = answered_order(city)
        survey = surveys.start_sms_survey(order)
        assert (survey.state, survey.method) == ("asking", "sms")
        ((auth, body),) = Gateway.received
        assert auth == "Bearer gw-key" and body["to"] == PHONE
        assert order.number in body["text"] and survey.token in body["text"]
        assert SmsMessage.objects.get(direction="out", purpose="survey").provider == "http"
    finally:
        server.shutdown()
        server.server_close()


def test_an_sms_survey_replaces_a_queued_call(city: Any) -> None:
    order = answered_order(city)
    first = surveys.start_survey(order)
    assert first is not None and first.method == "ivr"
    second = surveys.start_sms_survey(order)
    first.refresh_from_db()
    assert first.state == "cancelled" and second.method == "sms"
    assert OutboundCall.objects.get().state == OutboundCall.State.CANCELLED


def test_a_survey_overtaken_by_the_portal_rating_is_cancelled_with_its_call(city: Any) -> None:
    order = answered_order(city)
    survey = surveys.start_survey(order)
    assert survey is not None
    do_citizen_rating(order, "satisfied", "很好")
    assert surveys.do_sweep_surveys() == {"moved_on": 0, "cancelled": 1}
    survey.refresh_from_db()
    assert survey.state == "cancelled"
    assert OutboundCall.objects.get().state == OutboundCall.State.CANCELLED


def test_only_an_order_waiting_for_its_callback_is_surveyed(city: Any) -> None:
    from hotline.core.errors import Conflict

    order = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="停水", text="停水", citizen_phone=PHONE,
        district="gulou", category="100101"))[0]
    with pytest.raises(Conflict):
        surveys.start_survey(order)
    with pytest.raises(Conflict):
        surveys.start_sms_survey(order)


def test_a_late_call_report_after_an_sms_answer_changes_nothing(city: Any,
                                                                client: Client) -> None:
    order = answered_order(city)
    survey = surveys.start_survey(order)
    assert survey is not None
    job = calls.claim_call("gw-test")
    assert job is not None
    surveys.do_answer_survey(survey.token, resolved=True, satisfaction="satisfied")
    calls.do_finish_attempt(job.id, Outcome.ANSWERED,
                            result={"vars": {"resolved": "2", "satisfaction": "3"}})
    calls.do_tell_owners()
    order.refresh_from_db()
    assert (order.state, order.satisfaction, order.reopen_count) == (State.CLOSED,
                                                                     "satisfied", 0)


def test_a_call_no_gateway_takes_in_time_gives_way_to_the_sms(city: Any) -> None:
    SurveyPolicy.objects.create(order_type="", methods="ivr,sms", sms_wait_hours=2)
    order = answered_order(city)
    survey = surveys.start_survey(order)
    assert survey is not None and survey.method == "ivr"
    assert surveys.do_sweep_surveys(timezone.now() + dt.timedelta(hours=1))["moved_on"] == 0
    assert surveys.do_sweep_surveys(timezone.now() + dt.timedelta(hours=3))["moved_on"] == 1
    survey.refresh_from_db()
    assert (survey.state, survey.method) == ("asking", "sms") and len(LOG_OUTBOX) == 1
    assert OutboundCall.objects.get().state == OutboundCall.State.CANCELLED


def test_the_command_starts_one_orders_survey(city: Any) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    order = answered_order(city)
    out = StringIO()
    call_command("start_survey", order.number, "--sms", stdout=out)
    survey = Survey.objects.get()
    assert f"survey {survey.pk}: asking, by sms" in out.getvalue()
    assert survey.token in out.getvalue()
    with pytest.raises(CommandError):
        call_command("start_survey", "00000000")


def test_no_survey_sms_at_night_it_goes_when_quiet_hours_end(city: Any, settings: Any) -> None:
    import zoneinfo

    settings.HOTLINE_OUTREACH_QUIET_START = dt.time(21, 0)
    settings.HOTLINE_OUTREACH_QUIET_END = dt.time(8, 0)
    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    night = dt.datetime(2026, 12, 3, 22, 30, tzinfo=tz)
    order = answered_order(city)
    survey = surveys.start_sms_survey(order, now=night)
    assert (survey.state, survey.method, survey.tried) == ("asking", "", [])
    assert survey.waits_until == dt.datetime(2026, 12, 4, 8, 0, tzinfo=tz) and not LOG_OUTBOX
    assert surveys.take_sms_reply(phone=PHONE, text="1", at=night) is None  # nothing asked yet
    assert surveys.do_sweep_surveys(night + dt.timedelta(hours=2))["moved_on"] == 0
    assert surveys.do_sweep_surveys(dt.datetime(2026, 12, 4, 8, 0, tzinfo=tz))["moved_on"] == 1
    survey.refresh_from_db()
    assert (survey.method, survey.tried) == ("sms", ["sms"]) and len(LOG_OUTBOX) == 1
