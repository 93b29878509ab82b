"""Notifications: the citizen hears of their order on their channel (国办发〔2020〕53号: replies
by phone, SMS, email) when it is accepted, dispatched, replied and closed, and is asked to rate
the answer (the survey's SMS or email).

A periodic job ("citizen-notices", ``tasks.py``) reads the order history for those events and
writes one ``intake.CitizenNotice`` per event before it sends anything, so a rerun, or two
workers at once, tell the citizen once. The text is the centre's template for the event, the
channel and the citizen's language (``NoticeTemplate``, else ``notice_defaults``). The channel:
the citizen's preference (``ContactPreference``), else email for an order that came by email
(when the address is known), else SMS to the phone, else email; nobody for a citizen with
neither. Before sending: ``consent.refusal`` (TD, preference) and the daily limit per
citizen. Every SMS ends with the TD hint, every mail with the preference page's link (and a
List-Unsubscribe header). The acknowledgement of an order that came by email, SMS, Open311, WeChat, the
portal or the mailbox is sent by that channel at once, so the job skips it. A confidential
order's or a 举报's notice says the number and the state, never the matter, the unit or the
answer (a family phone or a shared mailbox must not learn who reported what)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from hotline.intake.models import CitizenNotice
from hotline.intake.sms.outbound import OPT_OUT_HINT
from hotline.orders.lifecycle import Action, State
from hotline.orders.models import Channel, Citizen, Order, OrderEvent
from hotline.outreach import consent, notice_defaults, preferences
from hotline.outreach.models import ContactPreference, NoticeTemplate
from hotline.outreach.notice_defaults import Event

log = logging.getLogger("hotline.outreach.notifications")

LOOK_BACK = dt.timedelta(days=3)  # events older than this are history, not news
BATCH = 200
REPLY_CHARS_SMS = 200
ANSWERED_AT_ONCE = frozenset({Channel.EMAIL, Channel.SMS, Channel.OPEN311, Channel.WEB,
                              Channel.WECHAT, Channel.MAILBOX})
EVENT_OF_ACTION = {Action.CREATE: Event.ACCEPTED, Action.DISPATCH: Event.DISPATCHED,
                   Action.ANSWER: Event.REPLIED, Action.APPROVE_REPLY: Event.REPLIED,
                   Action.CALLBACK: Event.CLOSED}


@dataclass(frozen=True)
class Delivery:
    channel: str  # "sms", "email" or "" (nothing sent)
    status: str  # CitizenNotice.Status
    reason: str = ""

    @property
    def sent(self) -> bool:
        return self.status == CitizenNotice.Status.SENT


def is_private(order: Order) -> bool:
    """A 举报 or a confidential order: nothing of its matter leaves in a notification."""
    return order.confidential or order.type == "report" or order.citizen.confidential


def choose_channel(order: Order, citizen: Citizen, pref: ContactPreference) -> str:
    """The written channel for this citizen and order; "" when there is none."""
    if pref.channel == ContactPreference.Channel.SMS:
        return "sms" if citizen.phone else ""
    if pref.channel == ContactPreference.Channel.EMAIL:
        return "email" if citizen.email else ""
    if pref.channel == ContactPreference.Channel.NONE:
        return ""
    if citizen.email and (order.channel == Channel.EMAIL or not citizen.phone):
        return "email"
    return "sms" if citizen.phone else ""


def texts(event: str, channel: str, language: str, values: dict[str, str]) -> (
        tuple[str, str] | None):
    """(subject, body) of the centre's template, else the default; None when the centre
    switched this notification off."""
    row = NoticeTemplate.objects.filter(event=event, channel=channel, language=language).first()
    default = notice_defaults.DEFAULTS.get((event, channel, language)) or \
        notice_defaults.DEFAULTS[(event, channel, "zh-hans")]
    subject, body = default
    if row is not None:
        if not row.is_active:
            return None
        if notice_defaults.template_problems(row.subject + row.body):
            log.warning("notification template %s is broken; the default text is used", row)
        else:
            subject, body = row.subject or subject, row.body
    return (notice_defaults.render(subject, values), notice_defaults.render(body, values))


def _values(order: Order, language: str, channel: str, link: str) -> dict[str, str]:
    language = language if language in notice_defaults.LANGUAGES else "zh-hans"
    reply = (order.reply_text or "").strip()
    unit = order.lead_unit.name if order.lead_unit_id and order.lead_unit else ""
    if is_private(order) or not reply:
        reply = notice_defaults.NEUTRAL[("reply", language)]
    if is_private(order) or not unit:
        unit = notice_defaults.NEUTRAL[("unit", language)]
    if channel == "sms" and len(reply) > REPLY_CHARS_SMS:
        reply = reply[: REPLY_CHARS_SMS - 1] + "…"
    return {"number": order.number, "unit": unit, "reply": reply, "link": link,
            "hotline": str(settings.HOTLINE_PUBLIC_NUMBER)}


def deliver(order: Order, event: str, *, link: str = "", channel: str = "",
            now: dt.datetime | None = None) -> Delivery:
    """Send the notification of ``event`` about ``order`` to its citizen (never raises for a
    provider's or relay's failure: the outcome says what happened). ``channel`` forces one
    ("sms" for the SMS survey) instead of the citizen's usual one."""
    from hotline.intake.email.outbound import send_citizen_mail
    from hotline.intake.sms.outbound import send_sms

    citizen = order.citizen
    pref = consent.preference(citizen)
    channel = channel or choose_channel(order, citizen, pref)
    if not channel:
        return Delivery("", CitizenNotice.Status.SKIPPED,
                        "no phone or email to reach the citizen" if not (
                            citizen.phone or citizen.email) else "the citizen chose no notices")
    purpose: consent.Purpose = "survey" if event == Event.SURVEY else "notice"
    refused = consent.refusal(citizen, "sms" if channel == "sms" else "email", purpose=purpose)
    if refused:
        return Delivery(channel, CitizenNotice.Status.SKIPPED, refused)
    if not consent.within_daily_limit(citizen, now):
        return Delivery(channel, CitizenNotice.Status.SKIPPED,
                        "daily limit for this citizen reached")
    found = texts(event, channel, pref.language, _values(order, pref.language, channel, link))
    if found is None:
        return Delivery(channel, CitizenNotice.Status.SKIPPED, "switched off by the centre")
    subject, body = found
    if channel == "email":
        # Every mail says how to stop it: the preference page's link and List-Unsubscribe.
        body += preferences.mail_footer(citizen.email, "notice", pref.language)
        mail = send_citizen_mail(order, citizen.email, subject, body, purpose=event,
                                 extra_headers=preferences.unsubscribe_headers(
                                     citizen.email, "notice"))
        ok, reason = mail.status == mail.Status.SENT, mail.error
    else:
        if OPT_OUT_HINT not in body:
            body = f"{body} {OPT_OUT_HINT}"
        sms = send_sms(citizen.phone, body, purpose=event, order=order)
        ok, reason = sms.sent, sms.error
    if ok:
        return Delivery(channel, CitizenNotice.Status.SENT)
    skipped = reason.startswith(("opted out", "hourly"))
    return Delivery(channel, CitizenNotice.Status.SKIPPED if skipped
                    else CitizenNotice.Status.FAILED, reason)


def _events() -> list[OrderEvent]:
    since = timezone.now() - LOOK_BACK
    wanted = (OrderEvent.objects.filter(created_at__gte=since, citizen_notice__isnull=True)
              .filter(action__in=[str(a) for a in EVENT_OF_ACTION])
              .select_related("order__citizen", "order__lead_unit").order_by("pk"))
    return [e for e in wanted[:BATCH]
            if e.action != Action.CALLBACK or e.to_state == State.CLOSED]


def _claim(event: OrderEvent, kind: str) -> CitizenNotice | None:
    try:
        with transaction.atomic():
            return CitizenNotice.objects.create(order=event.order, event=event, kind=kind,
                                                status=CitizenNotice.Status.SKIPPED,
                                                at=timezone.now())
    except IntegrityError:  # another worker took this event
        return None


def do_notify_citizens() -> int:
    """Tell citizens of their orders' new events; returns how many notices were written."""
    written = 0
    for event in _events():
        kind = EVENT_OF_ACTION[Action(event.action)]
        notice = _claim(event, kind)
        if notice is None:
            continue
        order = event.order
        try:
            if kind == Event.ACCEPTED and order.channel in ANSWERED_AT_ONCE:
                outcome = Delivery("", CitizenNotice.Status.SKIPPED,
                                   "acknowledged by its own channel")
            else:
                outcome = deliver(order, kind)
        except Exception as exc:  # one citizen's failure never stops the others
            log.exception("notice for %s failed", order.number)
            outcome = Delivery("", CitizenNotice.Status.FAILED, str(exc)[:255])
        notice.channel, notice.status, notice.reason = (
            outcome.channel, outcome.status, outcome.reason[:255])
        notice.save(update_fields=["channel", "status", "reason"])
        written += 1
    return written
