"""The answer goes back the way the citizen came (国办发〔2020〕53号: replies by phone, SMS,
email): when an order is accepted, answered or closed, the citizen hears of it on their channel.

A periodic job (``tasks.py``) reads the order history for those events and writes one
``CitizenNotice`` per event before it sends anything, so a rerun, or two workers at once, tell
the citizen once. The channel: email for an order that came by email (when the address is
known), else SMS to the citizen's phone, else email; a citizen with neither (an anonymous
report) is not contacted. The acknowledgement of an order that came by email, SMS, Open311 or
the portal is sent by that channel at once, so the job skips it. A confidential order's or a
report's notice says the number and the state, never the matter or the answer (a family phone
or a shared mailbox must not learn who reported what).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hotline.intake.models import CitizenNotice
from hotline.orders.lifecycle import Action, State
from hotline.orders.models import Channel, Order, OrderEvent

log = logging.getLogger("hotline.intake.notify")

LOOK_BACK = dt.timedelta(days=3)  # events older than this are history, not news
BATCH = 200
REPLY_CHARS_SMS = 200
ANSWERED_AT_ONCE = frozenset({Channel.EMAIL, Channel.SMS, Channel.OPEN311, Channel.WEB,
                              Channel.WECHAT, Channel.MAILBOX})


def _kind(event: OrderEvent) -> str:
    if event.action == Action.CREATE:
        return "accepted"
    if event.action in (Action.ANSWER, Action.APPROVE_REPLY):
        return "answered"
    return "closed"


def _events() -> list[OrderEvent]:
    since = timezone.now() - LOOK_BACK
    wanted = (OrderEvent.objects.filter(created_at__gte=since, citizen_notice__isnull=True)
              .filter(action__in=[Action.CREATE, Action.ANSWER, Action.APPROVE_REPLY,
                                  Action.CALLBACK])
              .select_related("order__citizen").order_by("pk"))
    return [e for e in wanted[:BATCH]
            if e.action != Action.CALLBACK or e.to_state == State.CLOSED]


def _texts(order: Order, kind: str, *, short: bool) -> tuple[str, str]:
    """(subject, body) in Chinese; only the number and the state for a confidential order."""
    private = order.confidential or order.type == "report"
    values = {"number": order.number}
    with translation.override("zh-hans"):
        if kind == "accepted":
            subject = _("Request %(number)s accepted") % values
            body = _("[12345] Your request is accepted with the number %(number)s. Keep it to "
                     "follow the request on the portal or by calling 12345.") % values
        elif kind == "answered":
            subject = _("Request %(number)s answered") % values
            reply = "" if private else (order.reply_text or "").strip()
            if short and len(reply) > REPLY_CHARS_SMS:
                reply = reply[: REPLY_CHARS_SMS - 1] + "…"
            body = (_("[12345] Your request %(number)s is answered: %(reply)s") % {
                **values, "reply": reply} if reply else
                _("[12345] Your request %(number)s is answered. See the answer on the portal "
                  "or call 12345.") % values)
        else:
            subject = _("Request %(number)s closed") % values
            body = _("[12345] Your request %(number)s is closed. Thank you for telling us.") \
                % values
    return subject, body


def _claim(event: OrderEvent, kind: str) -> CitizenNotice | None:
    try:
        with transaction.atomic():
            return CitizenNotice.objects.create(order=event.order, event=event, kind=kind,
                                                status=CitizenNotice.Status.SKIPPED,
                                                at=timezone.now())
    except IntegrityError:  # another worker took this event
        return None


def _deliver(notice: CitizenNotice, order: Order, kind: str) -> None:
    from hotline.intake.email.outbound import send_citizen_mail
    from hotline.intake.sms.outbound import send_sms

    citizen = order.citizen
    if kind == "accepted" and order.channel in ANSWERED_AT_ONCE:
        notice.reason = "acknowledged by its own channel"
        return
    use_email = bool(citizen.email) and (order.channel == Channel.EMAIL or not citizen.phone)
    if use_email:
        subject, body = _texts(order, kind, short=False)
        mail = send_citizen_mail(order, citizen.email, subject, body, purpose=kind)
        notice.channel = Channel.EMAIL
        ok, notice.reason = mail.status == mail.Status.SENT, mail.error
    elif citizen.phone:
        _subject, body = _texts(order, kind, short=True)
        sms = send_sms(citizen.phone, body, purpose=kind, order=order)
        notice.channel = Channel.SMS
        ok, notice.reason = sms.sent, sms.error
    else:
        notice.reason = "no phone or email to reach the citizen"
        return
    notice.status = CitizenNotice.Status.SENT if ok else (
        CitizenNotice.Status.SKIPPED if notice.reason.startswith(("opted out", "hourly"))
        else CitizenNotice.Status.FAILED)


def do_notify_citizens() -> int:
    """Tell citizens of their orders' new events; returns how many notices were written."""
    written = 0
    for event in _events():
        kind = _kind(event)
        notice = _claim(event, kind)
        if notice is None:
            continue
        try:
            _deliver(notice, event.order, kind)
        except Exception as exc:  # one citizen's failure never stops the others
            log.exception("notice for %s failed", event.order.number)
            notice.status, notice.reason = CitizenNotice.Status.FAILED, str(exc)[:255]
        notice.save(update_fields=["channel", "status", "reason"])
        written += 1
    return written
