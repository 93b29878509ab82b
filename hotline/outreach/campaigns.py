"""Campaigns (主动服务): a notice or a poll to a chosen group, released at the campaign's pace.

``do_create_campaign`` writes the campaign and one ``Recipient`` per address (chosen by
``campaign_recipients``). ``do_campaign_action`` moves it by the table of ``campaign_rules``
(start, pause, resume, cancel). The periodic job "campaign-pacer" (``do_pace_campaigns``,
every second) releases recipients of every running campaign inside its windows at its pace:
a voice recipient becomes an ``OutboundCall`` (the dialler's rows; quiet hours, the
do-not-call list and the daily cap are its rules), a fax recipient an ``OutboundFax`` (the
gateways' fax queue, ``contactcentre.faxes``), an SMS or email recipient is sent at once.
Whoever may not be reached (``consent``: TD, the do-not-call list, the citizen's "no
campaigns") is "blocked" with the reason, when the campaign is made and again when released.
When a call ends, ``calls.tell_owner`` calls ``on_call_finished`` here, which writes the
recipient's result (and, for a poll, the answers); a fax's outcome is read back by the pacer
(``do_follow_faxes``). ``campaign_progress`` is what the page's
progress bar and the outbound benchmark read.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.contactcentre.models import OutboundFax
from hotline.core.errors import Conflict, InvalidInput, NotFound
from hotline.core.roles import Role
from hotline.directory.models import UnitKind, User
from hotline.intake.email.outbound import send_citizen_mail
from hotline.intake.models import OutboundMail, SmsMessage
from hotline.intake.sms.outbound import OPT_OUT_HINT, send_sms
from hotline.orders.sweeps import system_user
from hotline.outreach import calls, campaign_rules, consent, outbound_flows, poll_spec, preferences
from hotline.outreach.campaign_recipients import Candidate, viewer_district
from hotline.outreach.models import Campaign, OutboundCall, Poll, Purpose, Recipient

log = logging.getLogger(__name__)

CAMPAIGN_ROLES = frozenset({Role.CENTRE_ADMIN, Role.MONITOR})
MAX_PER_MINUTE = 600
MAX_CONCURRENT = 300
RELEASE_BATCH = 100  # at most this many recipients per campaign and tick
MAX_MESSAGE = 1000

OUTCOME_STATUS: dict[str, str] = {
    "answered": Recipient.Status.ANSWERED, "busy": Recipient.Status.BUSY,
    "no_answer": Recipient.Status.NO_ANSWER, "rejected": Recipient.Status.REJECTED,
    "failed": Recipient.Status.FAILED,
}
FINAL = frozenset(set(Recipient.Status.values) - {Recipient.Status.PENDING,
                                                   Recipient.Status.QUEUED})


# --- who may ---------------------------------------------------------------------------------

def may_run_campaigns(user: Any) -> bool:
    """The centre's administrators and monitors, and a sub-centre's (for their district)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.role == Role.SYSTEM:
        return True  # the platform's own actor (the outbound benchmark); it has no pages
    unit = user.unit
    return user.role in CAMPAIGN_ROLES and unit is not None and unit.kind in (
        UnitKind.CENTRE, UnitKind.SUBCENTRE)


def visible_campaigns(user: User) -> QuerySet[Campaign]:
    if not may_run_campaigns(user):
        return Campaign.objects.none()
    district = viewer_district(user)
    if district is not None:
        return Campaign.objects.filter(district=district)
    return Campaign.objects.all()


def get_campaign(user: User, campaign_id: int) -> Campaign:
    campaign = visible_campaigns(user).select_related("poll").filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(gettext_noop("No such campaign."))
    return campaign


# --- creating --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CampaignInput:
    name: str
    channel: str
    topic: str = Campaign.Topic.POLICY
    message: str = ""
    subject: str = ""
    recording: str = ""  # a stored recording's path under MEDIA_ROOT (``store_recording``)
    poll_id: int | None = None
    per_minute: int = 10
    concurrent: int = 5
    max_attempts: int = 2
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    daily_start: dt.time = dt.time(9, 0)
    daily_end: dt.time = dt.time(20, 0)
    selection: dict[str, Any] | None = None


def check_campaign(user: User, data: CampaignInput) -> Poll | None:
    if not may_run_campaigns(user):
        raise NotFound(gettext_noop("No such campaign."))
    if not data.name.strip() or len(data.name) > 120:
        raise InvalidInput(gettext_noop("Name the campaign (at most 120 characters)."),
                           field="name")
    if data.channel not in Campaign.Channel.values:
        raise InvalidInput(gettext_noop("Choose how the campaign reaches people."),
                           field="channel")
    if data.topic not in Campaign.Topic.values:
        raise InvalidInput(gettext_noop("Choose the kind of notice."), field="topic")
    poll = None
    if data.poll_id is not None:
        poll = Poll.objects.filter(pk=data.poll_id).first()
        if poll is None or poll.state != Poll.State.OPEN:
            raise InvalidInput(gettext_noop("Choose an open poll."), field="poll")
        if data.channel in (Campaign.Channel.RECORDING, Campaign.Channel.FAX):
            raise InvalidInput(gettext_noop("A poll is asked by synthesized voice, SMS or email."),
                               field="channel")
        if data.channel == Campaign.Channel.VOICE:
            try:
                outbound_flows.poll_flow(poll.title, poll_spec.from_data(poll.questions))
            except ValueError:
                raise InvalidInput(gettext_noop("This poll has no question that can be "
                                                "answered on the keypad."), field="poll") from None
    elif data.channel == Campaign.Channel.RECORDING:
        if not data.recording:
            raise InvalidInput(gettext_noop("Upload the recorded notice."), field="recording")
    elif not data.message.strip():
        raise InvalidInput(gettext_noop("Write the notice."), field="message")
    if len(data.message) > MAX_MESSAGE:
        raise InvalidInput(gettext_noop("The notice is longer than 1000 characters."),
                           field="message")
    if data.channel == Campaign.Channel.EMAIL and not (data.subject.strip() or poll):
        raise InvalidInput(gettext_noop("Give the email a subject."), field="subject")
    if not 1 <= data.per_minute <= MAX_PER_MINUTE:
        raise InvalidInput(gettext_noop("Calls per minute: 1 to 600."), field="per_minute")
    if not 1 <= data.concurrent <= MAX_CONCURRENT:
        raise InvalidInput(gettext_noop("Concurrent calls: 1 to 300."), field="concurrent")
    if not 1 <= data.max_attempts <= 5:
        raise InvalidInput(gettext_noop("Attempts per recipient: 1 to 5."), field="max_attempts")
    if data.starts_at and data.ends_at and data.ends_at <= data.starts_at:
        raise InvalidInput(gettext_noop("The stop time must come after the start time."),
                           field="ends_at")
    return poll


def do_create_campaign(actor: User, data: CampaignInput, recipients: list[Candidate],
                       now: dt.datetime | None = None) -> Campaign:
    """A draft campaign with its recipients; an address ``consent`` refuses (do-not-call,
    TD, "no campaigns") is a recipient "blocked" from the start, so the results say why."""
    poll = check_campaign(actor, data)
    if not recipients:
        raise InvalidInput(gettext_noop("The chosen group has no one to reach."), field="source")
    if data.channel == Campaign.Channel.FAX and any(c.source != "upload" for c in recipients):
        # Citizens' numbers are phones, not fax lines: a fax campaign goes to a list of faxes.
        raise InvalidInput(gettext_noop("A fax campaign goes to an uploaded list of fax numbers."),
                           field="source")
    when = now or timezone.now()
    is_email = data.channel == Campaign.Channel.EMAIL
    unit = actor.unit
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=data.name.strip(), channel=data.channel, topic=data.topic,
            message=data.message.strip(), subject=data.subject.strip(), recording=data.recording,
            poll=poll, per_minute=data.per_minute, concurrent=data.concurrent,
            max_attempts=data.max_attempts, starts_at=data.starts_at, ends_at=data.ends_at,
            daily_start=data.daily_start, daily_end=data.daily_end,
            selection=data.selection or {}, district=viewer_district(actor), unit=unit,
            created_by=actor, created_at=when)
        blocked = consent.refusals([c.address for c in recipients], consent_channel(campaign),
                                   purpose="campaign")
        Recipient.objects.bulk_create([
            Recipient(campaign=campaign, address=c.address if not is_email else c.address.lower(),
                      name=c.name[:64], citizen_id=c.citizen_id, source=c.source,
                      confidential=c.confidential,
                      token=secrets.token_urlsafe(16) if poll is not None else "",
                      status=Recipient.Status.BLOCKED if c.address in blocked
                      else Recipient.Status.PENDING,
                      detail=blocked.get(c.address, ""),
                      finished_at=when if c.address in blocked else None)
            for c in recipients], batch_size=500)
    return campaign


def consent_channel(campaign: Campaign) -> consent.ChannelName:
    if campaign.is_voice:
        return "voice"
    if campaign.is_fax:
        return "fax"
    return "sms" if campaign.channel == Campaign.Channel.SMS else "email"


def do_create_number_campaign(actor: User | None, numbers: list[str], *, name: str, message: str,
                              per_minute: int, concurrent: int, max_attempts: int = 1,
                              daily_start: dt.time = dt.time(0, 0),
                              daily_end: dt.time = dt.time(0, 0)) -> Campaign:
    """A voice campaign (synthesized notice) to a list of numbers: what the outbound
    benchmark drives (create, ``do_campaign_action(..., "start")``, ``campaign_progress``)."""
    from hotline.outreach.campaign_recipients import dedupe

    found = dedupe(Candidate(calls.normalise_phone(n), "", None, "upload") for n in numbers)
    actor = actor or system_user()
    data = CampaignInput(name=name, channel=Campaign.Channel.VOICE, message=message,
                         per_minute=per_minute, concurrent=concurrent, max_attempts=max_attempts,
                         daily_start=daily_start, daily_end=daily_end,
                         selection={"source": "upload", "count": len(found)})
    return do_create_campaign(actor, data, found)


# --- moving it -------------------------------------------------------------------------------

def do_campaign_action(actor: User | None, campaign_id: int, action: str,
                       now: dt.datetime | None = None) -> Campaign:
    """A person's action (start, pause, resume, cancel) or the pacer's (begin, finish)."""
    when = now or timezone.now()
    with transaction.atomic():
        query = (visible_campaigns(actor) if actor is not None else Campaign.objects.all())
        campaign = query.select_for_update().filter(pk=campaign_id).first()
        if campaign is None:
            raise NotFound(gettext_noop("No such campaign."))
        if actor is not None and action not in campaign_rules.PERSON_ACTIONS:
            raise InvalidInput(gettext_noop("Unknown campaign action."), field="action")
        if action == campaign_rules.Action.START and campaign.starts_at and campaign.starts_at > when:
            action = campaign_rules.Action.SCHEDULE
        try:
            new = campaign_rules.next_state(campaign.state, action)
        except campaign_rules.TransitionError:
            raise Conflict(gettext_noop("The campaign cannot do that in its present state.")
                           ) from None
        campaign.state = new.value
        if new == campaign_rules.State.RUNNING:
            campaign.started_at = campaign.started_at or when
            campaign.pace_anchor, campaign.pace_slots = when, 0
        if new in (campaign_rules.State.PAUSED, campaign_rules.State.CANCELLED,
                   campaign_rules.State.FINISHED):
            _withdraw_queued(campaign, when, final=new != campaign_rules.State.PAUSED)
        if new in (campaign_rules.State.FINISHED, campaign_rules.State.CANCELLED):
            campaign.finished_at = when
            status = (Recipient.Status.CANCELLED if new == campaign_rules.State.CANCELLED
                      else Recipient.Status.EXPIRED)
            campaign.recipients.filter(status=Recipient.Status.PENDING).update(
                status=status, finished_at=when)
        campaign.save()
    return campaign


def _withdraw_queued(campaign: Campaign, when: dt.datetime, *, final: bool) -> None:
    """Calls released but not being dialled are cancelled; their recipients wait again
    (pause) or end (cancel, finish). A call being dialled ends by itself and is recorded;
    so does a fax being sent, while a fax still waiting leaves the gateways' queue."""
    if campaign.is_fax:
        _withdraw_faxes(campaign, when, final=final)
        return
    queued = campaign.recipients.filter(status=Recipient.Status.QUEUED, call__isnull=False,
                                        call__state=OutboundCall.State.QUEUED)
    for recipient in queued.select_related("call"):
        assert recipient.call_id is not None
        if calls.do_cancel_call(recipient.call_id, now=when):
            if final:
                recipient.status = (Recipient.Status.CANCELLED
                                    if campaign.state == campaign_rules.State.CANCELLED
                                    else Recipient.Status.EXPIRED)
                recipient.finished_at = when
            else:
                recipient.status, recipient.released_at = Recipient.Status.PENDING, None
                recipient.call = None
            recipient.save(update_fields=["status", "finished_at", "released_at", "call"])


def _withdraw_faxes(campaign: Campaign, when: dt.datetime, *, final: bool) -> None:
    for recipient in campaign.recipients.filter(status=Recipient.Status.QUEUED,
                                                fax__state=OutboundFax.State.QUEUED):
        # The same conditional UPDATE as a gateway's claim: a fax claimed meanwhile is sent.
        assert recipient.fax_id is not None
        if not OutboundFax.objects.filter(pk=recipient.fax_id, state=OutboundFax.State.QUEUED
                                          ).update(state=OutboundFax.State.FAILED,
                                                   error="withdrawn with its campaign",
                                                   finished_at=when):
            continue
        if final:
            recipient.status = (Recipient.Status.CANCELLED
                                if campaign.state == campaign_rules.State.CANCELLED
                                else Recipient.Status.EXPIRED)
            recipient.finished_at = when
        else:
            recipient.status, recipient.released_at, recipient.fax = (
                Recipient.Status.PENDING, None, None)
        recipient.save(update_fields=["status", "finished_at", "released_at", "fax"])


# --- the pacer -------------------------------------------------------------------------------

def window_of(campaign: Campaign) -> campaign_rules.Window:
    return campaign_rules.Window(starts_at=campaign.starts_at, ends_at=campaign.ends_at,
                                 daily_start=campaign.daily_start, daily_end=campaign.daily_end)


def do_pace_campaigns(now: dt.datetime | None = None) -> int:
    """One tick of the pacer over every scheduled or running campaign; recipients released."""
    when = now or timezone.now()
    released = 0
    try:
        do_follow_faxes(when)
    except Exception:
        log.exception("campaign faxes: outcomes not read")
    for pk, state in Campaign.objects.filter(
            state__in=(Campaign.State.SCHEDULED, Campaign.State.RUNNING)).values_list("pk", "state"):
        try:
            released += _pace_one(pk, state, when)
        except Exception:  # one campaign's failure must not stop the others
            log.exception("campaign %s: pacing failed", pk)
    return released


def _pace_one(pk: int, state: str, when: dt.datetime) -> int:
    campaign = Campaign.objects.select_related("poll").get(pk=pk)
    window = window_of(campaign)
    if state == Campaign.State.SCHEDULED:
        if window.begun(when):
            do_campaign_action(None, pk, campaign_rules.Action.BEGIN, now=when)
        return 0
    open_recipients = campaign.recipients.filter(
        status__in=(Recipient.Status.PENDING, Recipient.Status.QUEUED))
    if window.over(when) or not open_recipients.exists():
        do_campaign_action(None, pk, campaign_rules.Action.FINISH, now=when)
        return 0
    local = when.astimezone(calls.local_zone())
    # In quiet hours no call is made: releasing calls then would only pile them up for the
    # morning's first minute, past the pace.
    quiet = (campaign.is_voice or campaign.is_fax) and calls.calling_rules().in_quiet_hours(local)
    if quiet or not window.open(when, local):
        # Slots are not saved up overnight: the pace starts afresh when the window opens.
        if campaign.pace_anchor is not None:
            Campaign.objects.filter(pk=pk).update(pace_anchor=None, pace_slots=0)
        return 0
    pending = campaign.recipients.filter(status=Recipient.Status.PENDING)
    remaining = pending.count()
    if remaining == 0:
        return 0
    anchor = campaign.pace_anchor or when
    last_minute = campaign.recipients.filter(released_at__gt=when - dt.timedelta(minutes=1)).count()
    release = campaign_rules.due_releases(
        campaign_rules.Pace(campaign.per_minute, campaign.concurrent),
        elapsed_s=(when - anchor).total_seconds(), slots_used=campaign.pace_slots,
        released_last_minute=last_minute, in_flight=_in_flight(campaign, when),
        remaining=remaining)
    # The slots are claimed on the campaign row first (compare and set), so two pacers never
    # release the same slot; then the recipients, each by its own conditional UPDATE.
    if release.slots_used != campaign.pace_slots and not Campaign.objects.filter(
            pk=pk, state=Campaign.State.RUNNING, pace_slots=campaign.pace_slots).update(
            pace_slots=release.slots_used, pace_anchor=anchor):
        return 0
    count = 0
    for recipient_id in list(pending.values_list("pk", flat=True)[:min(release.count,
                                                                       RELEASE_BATCH)]):
        if Recipient.objects.filter(pk=recipient_id, status=Recipient.Status.PENDING).update(
                status=Recipient.Status.QUEUED, released_at=when):
            _release(campaign, Recipient.objects.select_related("citizen").get(pk=recipient_id),
                     when)
            count += 1
    return count


def _in_flight(campaign: Campaign, when: dt.datetime) -> int:
    if campaign.is_fax:
        return campaign.recipients.filter(status=Recipient.Status.QUEUED, fax__state__in=(
            OutboundFax.State.QUEUED, OutboundFax.State.SENDING)).count()
    if not campaign.is_voice:
        return 0
    return OutboundCall.objects.filter(ref__startswith=f"campaign:{campaign.pk}:").filter(
        Q(state=OutboundCall.State.DIALLING)
        | Q(state=OutboundCall.State.QUEUED, next_try_at__lte=when)).count()


def call_ref(recipient: Recipient) -> str:
    return f"campaign:{recipient.campaign_id}:{recipient.pk}"


def flow_of(campaign: Campaign) -> dict[str, Any]:
    if campaign.poll is not None:
        poll = campaign.poll
        return outbound_flows.poll_flow(poll.title, poll_spec.from_data(poll.questions),
                                        intro=poll.intro, name=f"poll-{poll.pk}")
    return outbound_flows.notice_flow(text=campaign.message,
                                      recorded=campaign.channel == Campaign.Channel.RECORDING,
                                      name=f"campaign-{campaign.pk}")


def recording_path(campaign: Campaign) -> str:
    return str(settings.MEDIA_ROOT / campaign.recording) if campaign.recording else ""


def poll_link(recipient: Recipient) -> str:
    return f"{settings.HOTLINE_PUBLIC_URL.rstrip('/')}/citizen/polls/{recipient.token}/"


def _block(recipient: Recipient, reason: str, when: dt.datetime) -> None:
    recipient.status, recipient.detail, recipient.finished_at = (
        Recipient.Status.BLOCKED, reason[:255], when)
    recipient.save(update_fields=["status", "detail", "finished_at"])


def _release(campaign: Campaign, recipient: Recipient, when: dt.datetime) -> None:
    # Asked again at release: a citizen may have said no since the campaign was made.
    refused = consent.refusal(recipient.address, consent_channel(campaign), purpose="campaign")
    if refused:
        _block(recipient, refused, when)
        return
    if campaign.is_fax:
        fax = OutboundFax.objects.create(
            order=None, number=recipient.address,
            title=(campaign.subject or campaign.name)[:200], text=campaign.message,
            next_try_at=when, created_by=campaign.created_by, created_at=when)
        recipient.fax = fax
        recipient.save(update_fields=["fax"])
        return
    if campaign.is_voice:
        variables = ({outbound_flows.RECORDING_VAR: recording_path(campaign)}
                     if campaign.channel == Campaign.Channel.RECORDING else {})
        call = calls.do_queue_call(
            recipient.address, Purpose.POLL if campaign.poll_id else Purpose.CAMPAIGN, "ivr",
            actor=campaign.created_by, citizen=recipient.citizen,
            flow=flow_of(campaign), variables=variables, ref=call_ref(recipient),
            max_attempts=campaign.max_attempts, not_after=campaign.ends_at, now=when)
        recipient.call = call
        if call.state == OutboundCall.State.BLOCKED:
            recipient.status, recipient.detail = Recipient.Status.BLOCKED, "do-not-call"
            recipient.finished_at = when
        recipient.save(update_fields=["call", "status", "detail", "finished_at"])
        return
    text = campaign.message
    if campaign.poll_id:
        text = f"{text}\n{poll_link(recipient)}".strip() if text else (
            f"【12345】{campaign.poll.title if campaign.poll else ''}：{poll_link(recipient)}")
    if not consent.within_daily_limit(recipient.citizen, when):
        _block(recipient, "daily limit for this citizen reached", when)
        return
    status: str
    if campaign.channel == Campaign.Channel.SMS:
        if OPT_OUT_HINT not in text:  # every SMS says how to stop them (TD, intake's list)
            text = f"{text} {OPT_OUT_HINT}"
        sms = send_sms(recipient.address, text, purpose="campaign")
        sms_status: dict[str, str] = {SmsMessage.Status.SENT: Recipient.Status.SENT,
                                      SmsMessage.Status.REFUSED: Recipient.Status.BLOCKED}
        status = sms_status.get(sms.status, Recipient.Status.FAILED)
        detail = sms.error
    else:
        language = consent.preference(recipient.citizen).language
        text += preferences.mail_footer(recipient.address, "campaign", language)
        mail = send_citizen_mail(None, recipient.address, campaign.subject or campaign.name,
                                 text, purpose="campaign",
                                 extra_headers=preferences.unsubscribe_headers(
                                     recipient.address, "campaign"))
        status = (Recipient.Status.SENT if mail.status == OutboundMail.Status.SENT
                  else Recipient.Status.FAILED)
        detail = mail.error
    recipient.status, recipient.detail, recipient.finished_at = status, detail[:255], when
    recipient.attempts = 1
    recipient.save(update_fields=["status", "detail", "finished_at", "attempts"])


# --- results ---------------------------------------------------------------------------------

def do_follow_faxes(now: dt.datetime | None = None, batch: int = 500) -> int:
    """Campaign recipients whose fax the gateways finished take its outcome (sent, or failed
    after the fax queue's own retries) with its pages and attempts; how many moved. Each
    recipient moves once: a conditional UPDATE from "in progress"."""
    moved = 0
    done = (Recipient.objects.filter(status=Recipient.Status.QUEUED, fax__isnull=False,
                                     fax__state__in=(OutboundFax.State.SENT,
                                                     OutboundFax.State.FAILED))
            .select_related("fax").order_by("pk")[:batch])
    for recipient in done:
        fax = recipient.fax
        assert fax is not None
        ok = fax.state == OutboundFax.State.SENT
        moved += Recipient.objects.filter(pk=recipient.pk, status=Recipient.Status.QUEUED).update(
            status=Recipient.Status.SENT if ok else Recipient.Status.FAILED,
            attempts=fax.attempts, detail=fax.error[:255], result={"pages": fax.pages},
            finished_at=fax.finished_at or now or timezone.now())
    return moved


def on_call_finished(call: OutboundCall) -> None:
    """The dialler finished a campaign call (or it was blocked or expired): the recipient's
    result. Called once per call by ``calls.tell_owner``."""
    parts = call.ref.split(":")
    if len(parts) != 3 or parts[0] != "campaign" or not parts[2].isdigit():
        log.warning("outbound call %s: campaign ref %r names no recipient", call.pk, call.ref)
        return
    recipient = (Recipient.objects.select_for_update(of=("self",)).select_related("campaign__poll")
                 .filter(pk=int(parts[2]), call_id=call.pk).first())
    if recipient is None or recipient.status in FINAL:
        return
    status: str
    if call.state == OutboundCall.State.BLOCKED:
        status = Recipient.Status.BLOCKED
    elif call.state == OutboundCall.State.CANCELLED:
        status = Recipient.Status.CANCELLED
    elif call.error == "expired" and not call.outcome:
        status = Recipient.Status.EXPIRED
    else:
        status = OUTCOME_STATUS.get(call.outcome, Recipient.Status.FAILED)
    variables = call.result.get("vars", {}) if isinstance(call.result, dict) else {}
    recipient.status, recipient.attempts = status, call.attempts
    recipient.detail = (call.error or "")[:255]
    recipient.result = variables if isinstance(variables, dict) else {}
    recipient.finished_at = call.finished_at or timezone.now()
    recipient.save(update_fields=["status", "attempts", "detail", "result", "finished_at"])
    if status == Recipient.Status.ANSWERED and recipient.campaign.poll is not None:
        from hotline.outreach.polls import do_record_call_answers

        do_record_call_answers(recipient.campaign.poll, recipient, recipient.result,
                               at=recipient.finished_at)


@dataclass(frozen=True)
class Progress:
    total: int
    released: int  # recipients given a call or a message so far
    dialling: int  # calls a gateway is making now
    by_status: dict[str, int]

    @property
    def done(self) -> int:
        return sum(n for s, n in self.by_status.items() if s in FINAL)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "released": self.released, "dialling": self.dialling,
                "done": self.done, "percent": self.percent,
                **{s: self.by_status.get(s, 0) for s in Recipient.Status.values}}


def campaign_progress(campaign: Campaign | int) -> Progress:
    """Counts by recipient status, released so far and calls being dialled now."""
    pk = campaign if isinstance(campaign, int) else campaign.pk
    counts = Counter(dict(Recipient.objects.filter(campaign_id=pk).order_by().values("status")
                          .annotate(n=Count("pk")).values_list("status", "n")))
    total = sum(counts.values())
    released = Recipient.objects.filter(campaign_id=pk, released_at__isnull=False).count()
    dialling = OutboundCall.objects.filter(ref__startswith=f"campaign:{pk}:",
                                           state=OutboundCall.State.DIALLING).count()
    dialling += Recipient.objects.filter(campaign_id=pk, status=Recipient.Status.QUEUED,
                                         fax__state=OutboundFax.State.SENDING).count()
    return Progress(total, released, dialling, dict(counts))

