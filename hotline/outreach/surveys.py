"""The automated satisfaction survey (SPEC section 5, issue 13 item 3): after the centre
accepted an order's reply (state 待回访), the citizen is asked whether the matter is resolved
and whether they are satisfied, by the ways the centre chose for the order type
(``SurveyPolicy``, read by ``survey_steps``): an IVR call (``survey_flow.yaml``, queued as an
outbound call the dialler makes), an SMS (reply with a digit, or open the link), the survey
page's link alone, or an agent's call back. A way that cannot reach the citizen (no answer
after the call's attempts, no reply in ``sms_wait_hours``, opted out, no phone) gives way to
the next one.

The answer is recorded through the lifecycle as the system user, like the portal's rating:
resolved and satisfied (or basically) is the callback (回访) that closes the order; unresolved
or unsatisfied reopens it (重办) with the citizen's words. Either way the order's
``satisfaction`` and ``resolved`` and the history event's data carry it, which is what the
department's rates are computed from.

Entry points: ``start_survey(order)`` (per policy; the reply-accepted wiring calls it),
``start_sms_survey(order)`` (the call-backs work calls it when a citizen is unreachable),
``on_call_finished(call)`` (``calls.FINISHERS``), ``take_sms_reply`` (intake's SMS reply
handlers, ``HOTLINE_SMS_REPLY_HANDLERS``), ``do_answer_survey`` (the survey page) and
``do_sweep_surveys`` (periodic)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import secrets
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.core.errors import Conflict, InvalidInput, ServiceError
from hotline.intake.sms.inbound import TakenReply
from hotline.orders.attachments import do_attach_file
from hotline.orders.lifecycle import Action, State
from hotline.orders.models import Attachment, Order
from hotline.orders.services import do_action
from hotline.orders.sweeps import system_user
from hotline.outreach import calls, consent, notice_defaults, notifications
from hotline.outreach.models import OutboundCall, Outcome, Purpose, Survey, SurveyPolicy
from hotline.outreach.survey_steps import (
    DEFAULT_METHODS,
    Answer,
    BadMethods,
    Method,
    Satisfaction,
    answer_from_keys,
    answer_from_reply,
    next_method,
    parse_methods,
)

log = logging.getLogger("hotline.outreach.surveys")

SURVEY_FLOW = Path(__file__).with_name("survey_flow.yaml")
COMMENT_CHARS = 1000
DEFAULT_WAIT_HOURS = 48


@functools.cache
def survey_flow() -> dict[str, Any]:
    """The IVR survey flow as data (validated by the voice loader in the tests and by the
    gateway when it runs it)."""
    loaded = yaml.safe_load(SURVEY_FLOW.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def policy_for(order: Order) -> SurveyPolicy:
    """The order type's policy, else the default row, else the built-in default (unsaved)."""
    rows = {row.order_type: row for row in SurveyPolicy.objects.filter(
        order_type__in=[order.type, ""])}
    return rows.get(order.type) or rows.get("") or SurveyPolicy(
        order_type="", methods=",".join(m.value for m in DEFAULT_METHODS),
        sms_wait_hours=DEFAULT_WAIT_HOURS)


def methods_for(order: Order) -> tuple[Method, ...]:
    try:
        return parse_methods(policy_for(order).methods)
    except BadMethods:  # a row saved around the admin's validation
        log.warning("survey policy for %s is invalid; the default is used", order.type)
        return DEFAULT_METHODS


def first_method(order: Order) -> Method:
    """What the policy says comes first for this order: "agent" means an agent calls back."""
    return methods_for(order)[0]


def survey_link(survey: Survey) -> str:
    path = reverse("citizen_survey:page", args=[survey.token])
    return str(settings.HOTLINE_PUBLIC_URL).rstrip("/") + path


def _asking(order: Order) -> Survey | None:
    return Survey.objects.filter(order=order, state=Survey.State.ASKING).first()


def _new_survey(order: Order, methods: tuple[Method, ...], now: dt.datetime) -> Survey:
    citizen = order.citizen
    try:
        with transaction.atomic():
            return Survey.objects.create(
                order=order, citizen=citizen, phone=citizen.phone, email=citizen.email,
                methods=",".join(m.value for m in methods), tried=[],
                token=secrets.token_urlsafe(12), created_at=now)
    except IntegrityError:  # another start won the race: one asking per order
        found = _asking(order)
        if found is None:
            raise
        return found


def _check_order(order: Order) -> None:
    if order.state != State.CALLBACK:
        raise Conflict(gettext_noop("Only an order whose reply was accepted is surveyed."))


def start_survey(order: Order, *, now: dt.datetime | None = None) -> Survey | None:
    """Start asking the citizen by the order type's policy. None when the policy's first way
    is an agent's call back: the caller puts the order on the agents' call-back list. An
    order already being asked gets its survey back (nothing is sent twice)."""
    _check_order(order)
    found = _asking(order)
    if found is not None:
        return found
    methods = methods_for(order)
    if methods[0] == Method.AGENT:
        return None
    survey = _new_survey(order, methods, now or timezone.now())
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if not locked.tried:
            _advance(locked, now or timezone.now())
    return Survey.objects.get(pk=survey.pk)


def start_sms_survey(order: Order, *, now: dt.datetime | None = None) -> Survey:
    """Ask by SMS now, whatever the policy (the citizen could not be reached by phone). A
    survey already asking by another way gives way to this one."""
    _check_order(order)
    when = now or timezone.now()
    with transaction.atomic():
        current = Survey.objects.select_for_update().filter(
            order=order, state=Survey.State.ASKING).first()
        if current is not None:
            if current.method == Method.SMS:
                return current
            _stop(current, Survey.State.CANCELLED, when)
    survey = _new_survey(order, (Method.SMS,), when)
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if not locked.tried:
            _advance(locked, when)
    return Survey.objects.get(pk=survey.pk)


def _stop(survey: Survey, state: str, now: dt.datetime) -> None:
    if survey.call_id is not None:
        calls.do_cancel_call(survey.call_id, now)
    survey.state, survey.finished_at, survey.waits_until = state, now, None
    survey.save(update_fields=["state", "finished_at", "waits_until"])


def _wait_hours(survey: Survey) -> int:
    return int(policy_for(survey.order).sms_wait_hours or DEFAULT_WAIT_HOURS)


def _try(survey: Survey, method: Method, now: dt.datetime) -> bool:
    """Ask by ``method``; True when the citizen was reached (a call queued, a message sent)."""
    order, citizen = survey.order, survey.citizen
    if method == Method.IVR:
        if not citizen.phone or not consent.may_message(citizen, "voice", purpose="survey"):
            return False
        call = calls.do_queue_call(
            citizen.phone, Purpose.SURVEY, OutboundCall.Mode.IVR, order=order,
            citizen=citizen, flow=survey_flow(), variables={"number": order.number},
            ref=f"survey:{survey.pk}", now=now,
            not_after=now + dt.timedelta(hours=_wait_hours(survey)))
        if call.state == OutboundCall.State.BLOCKED:
            return False
        survey.call = call
        return True
    if method in (Method.SMS, Method.PORTAL):
        channel = "sms" if method == Method.SMS or not citizen.email else "email"
        if channel == "sms" and not citizen.phone:
            return False
        outcome = notifications.deliver(order, notice_defaults.Event.SURVEY,
                                        link=survey_link(survey), channel=channel, now=now)
        if not outcome.sent:
            log.info("survey %s by %s not sent: %s", survey.pk, channel, outcome.reason)
            return False
        survey.waits_until = now + dt.timedelta(hours=_wait_hours(survey))
        return True
    return False


def _advance(survey: Survey, now: dt.datetime) -> None:
    """Try the next ways in turn until one reaches the citizen, or none is left. The caller
    holds the survey's row lock."""
    methods = parse_methods(survey.methods)
    survey.call, survey.waits_until = None, None
    while True:
        method = next_method(methods, tuple(survey.tried))
        if method is None:
            survey.state, survey.finished_at = Survey.State.UNANSWERED, now
            break
        rules, local = calls.calling_rules(), now.astimezone(calls.local_zone())
        if method in (Method.SMS, Method.PORTAL) and rules.in_quiet_hours(local):
            # No survey message at night either: the sweep sends it when quiet hours end.
            survey.method, survey.waits_until = "", rules.next_allowed(local)
            break
        survey.tried = [*survey.tried, method.value]
        survey.method = method.value
        if method == Method.AGENT:
            survey.state, survey.finished_at = Survey.State.AGENT, now
            break
        if _try(survey, method, now):
            break
    survey.save()


def _note(answer: Answer, by: str) -> str:
    resolved = "已解决" if answer.resolved else "未解决"
    labels = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}
    note = f"[citizen, {by} survey] {resolved}，{labels[answer.satisfaction]}"
    if answer.comment.strip():
        note += "：" + answer.comment.strip()[:COMMENT_CHARS]
    return note


def _attach_comment(order: Order, path: str) -> bool:
    """The recorded comment joins the order as a call recording (so the unit handling a
    reopened order hears it; ``visible_attachments`` hides recordings from whoever may not
    know the citizen, a 举报's unit among them). Only a file the gateway wrote under the data
    directory is taken.

    The gateway normally stores the comment as a recording of the call's outbound contact,
    which is attached to the order already, and reports that stored name (relative to
    MEDIA_ROOT, not to the data directory): nothing more to attach then. The working file's
    absolute path comes only when the gateway could not store it."""
    if path and not Path(path).is_absolute() and order.attachments.filter(
            kind=Attachment.Kind.RECORDING, file=path).exists():
        return True
    data_dir = Path(settings.DATA_DIR).resolve()
    file = Path(path) if Path(path).is_absolute() else data_dir / path
    try:
        file = file.resolve()
        if not file.is_relative_to(data_dir) or not file.is_file():
            log.warning("survey comment %r of order %s is not a recording of ours", path,
                        order.number)
            return False
        with file.open("rb") as handle:
            do_attach_file(None, order, File(handle), Attachment.Kind.RECORDING,
                           name=f"survey-comment-{order.number}.wav")
    except (OSError, ServiceError) as exc:
        log.warning("survey comment of order %s not attached: %s", order.number, exc)
        return False
    return True


def _record(survey: Survey, answer: Answer, by: str, now: dt.datetime, *,
            recording: str = "") -> None:
    """Record the answer on the order (through the lifecycle) and on the survey. The caller
    holds the survey's row lock; the survey is asking."""
    order = Order.objects.get(pk=survey.order_id)
    survey.resolved, survey.satisfaction = answer.resolved, answer.satisfaction.value
    survey.comment, survey.recording = answer.comment[:COMMENT_CHARS], recording[:255]
    survey.answered_by, survey.state, survey.finished_at = by, Survey.State.ANSWERED, now
    survey.waits_until = None
    if order.state == State.CALLBACK:
        note = _note(answer, by)
        if recording and _attach_comment(order, recording):
            note += "（录音意见见附件）"
        params = {"resolved": answer.resolved, "satisfaction": answer.satisfaction.value}
        try:
            if answer.reopens:
                do_action(system_user(), order.number, Action.REOPEN,
                          {**params, "reason": note}, now=now)
            else:
                do_action(system_user(), order.number, Action.CALLBACK,
                          {**params, "note": note}, now=now)
        except Conflict:  # never dispatched (answered by the centre): nothing to reopen
            do_action(system_user(), order.number, Action.CALLBACK,
                      {**params, "note": note}, now=now)
    else:
        log.info("survey %s answered after order %s moved on: kept with the survey only",
                 survey.pk, order.number)
    if survey.call_id is not None and by != "ivr":
        calls.do_cancel_call(survey.call_id, now)
    survey.save()


def on_call_finished(call: OutboundCall) -> None:
    """The survey call is finished (``calls.tell_owner``): record the keys, or try the next
    way when the citizen did not answer or hung up before rating."""
    kind, _colon, pk = call.ref.partition(":")
    if kind != "survey" or not pk.isdigit():
        log.warning("survey call %s names no survey (%r)", call.pk, call.ref)
        return
    now = timezone.now()
    survey = Survey.objects.select_for_update().filter(pk=int(pk)).first()
    if survey is None or survey.state != Survey.State.ASKING or survey.call_id != call.pk:
        return  # answered another way meanwhile, or a call this survey no longer waits for
    keys = (call.result or {}).get("vars") or {}
    answer = None
    if call.outcome == Outcome.ANSWERED:
        answer = answer_from_keys(str(keys.get("resolved", "")),
                                  str(keys.get("satisfaction", "")))
    if answer is None:
        _advance(survey, now)
        return
    recording = keys.get("comment")
    _record(survey, answer, "ivr", now, recording=recording if isinstance(recording, str) else "")


def _reply_thanks(survey: Survey, answer: Answer) -> str:
    language = consent.preference(survey.citizen).language
    if language not in notice_defaults.LANGUAGES:
        language = "zh-hans"
    text = notice_defaults.THANKS[("reopened" if answer.reopens else "kept", language)]
    return notice_defaults.render(text, {"number": survey.order.number,
                                         "hotline": str(settings.HOTLINE_PUBLIC_NUMBER)})


def take_sms_reply(*, phone: str, text: str, at: dt.datetime) -> TakenReply | None:
    """An inbound SMS (intake's reply handler): a digit 1-3 from a phone with a survey
    waiting for its reply is the answer, and no new order; anything else is not ours."""
    answer = answer_from_reply(text)
    if answer is None or not phone:
        return None
    with transaction.atomic():
        survey = (Survey.objects.select_for_update()
                  .filter(phone=phone, state=Survey.State.ASKING,
                          method__in=[Method.SMS, Method.PORTAL], waits_until__gt=at)
                  .order_by("-created_at").first())
        if survey is None:
            return None
        _record(survey, answer, "sms", at)
        return TakenReply(purpose="survey-reply", answer=_reply_thanks(survey, answer),
                          order_id=survey.order_id)


def survey_for_token(token: str) -> Survey | None:
    if not token or len(token) > 32:
        return None
    return Survey.objects.select_related("order").filter(token=token).first()


def do_answer_survey(token: str, *, resolved: bool, satisfaction: str, comment: str = "",
                     now: dt.datetime | None = None) -> Survey:
    """The citizen's answer on the survey page (the link's token is the proof)."""
    if satisfaction not in {s.value for s in Satisfaction}:
        raise InvalidInput(gettext_noop("Choose how satisfied you are."), field="satisfaction")
    when = now or timezone.now()
    with transaction.atomic():
        survey = Survey.objects.select_for_update().filter(token=token).first()
        if survey is None:
            raise InvalidInput(gettext_noop("This survey link is not valid."), field="token")
        if survey.state != Survey.State.ASKING:
            raise Conflict(gettext_noop("This survey is already answered or closed."))
        _record(survey, Answer(resolved, Satisfaction(satisfaction), comment.strip()), "web",
                when)
    return survey


def do_sweep_surveys(now: dt.datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Periodic: a survey whose SMS or link went unanswered past its wait tries its next way
    (as does one whose message waited for the end of quiet hours),
    and so does one whose call no gateway took before its time ran out (no trunk, a dialler
    down); a survey whose order left 待回访 another way (rated on the portal, an agent's call
    back) is cancelled, with its queued call."""
    when = now or timezone.now()
    moved = cancelled = 0
    for pk in (Survey.objects.filter(state=Survey.State.ASKING, method=Method.IVR,
                                     call__state=OutboundCall.State.QUEUED,
                                     call__not_after__lt=when)
               .values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            survey = Survey.objects.select_for_update().get(pk=pk)
            if survey.state == Survey.State.ASKING and survey.call_id is not None \
                    and calls.do_cancel_call(survey.call_id, when):
                _advance(survey, when)
                moved += 1
    for pk in (Survey.objects.filter(state=Survey.State.ASKING)
               .exclude(order__state=State.CALLBACK).values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            survey = Survey.objects.select_for_update().get(pk=pk)
            if survey.state == Survey.State.ASKING:
                _stop(survey, Survey.State.CANCELLED, when)
                cancelled += 1
    for pk in (Survey.objects.filter(state=Survey.State.ASKING, waits_until__lte=when)
               .values_list("pk", flat=True)[:limit]):
        with transaction.atomic():
            survey = Survey.objects.select_for_update().get(pk=pk)
            if survey.state == Survey.State.ASKING and survey.waits_until is not None \
                    and survey.waits_until <= when:
                _advance(survey, when)
                moved += 1
    return {"moved_on": moved, "cancelled": cancelled}


def surveys_for_agents() -> Any:
    """Surveys the policy handed to a person (its next way was an agent's call back): the
    call-backs work list reads these."""
    return Survey.objects.filter(state=Survey.State.AGENT).select_related("order", "citizen")
