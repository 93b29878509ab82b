"""Whether the hotline may write to or call a citizen: the one check every outreach feature
makes before it sends (notices, surveys, campaigns, polls, reminders).

``may_message(citizen_or_number, channel)`` says no when the citizen opted out of that channel
(an SMS answered TD, kept by intake; the do-not-call list for calls), when their preference
says no notifications or another channel, or, for campaigns and polls, when they have not
agreed to them. ``within_daily_limit`` is the rate limit per citizen: no more than
HOTLINE_NOTICES_PER_CITIZEN_DAY messages of ours in 24 hours, every order together (intake
also caps SMS per phone and hour)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.conf import settings
from django.utils import timezone

from hotline.core.phones import normalise_phone
from hotline.intake.models import CitizenNotice, OutboundMail, SmsMessage
from hotline.intake.sms.outbound import opted_out
from hotline.orders.models import Citizen
from hotline.outreach.models import ContactPreference, DoNotCall

ChannelName = Literal["sms", "email", "voice"]
Purpose = Literal["notice", "survey", "campaign"]


def preference(citizen: Citizen | None) -> ContactPreference:
    """The citizen's preference, or the defaults (not saved) when they have none. Two rows
    (two records of one person merged) read as the stricter: a "no" in either stands, and
    the channel and language of the one changed last."""
    rows = list(ContactPreference.objects.filter(citizen=citizen).order_by("-updated_at", "-pk")
                ) if citizen is not None and citizen.pk is not None else []
    if not rows:
        return ContactPreference(citizen=citizen) if citizen is not None else ContactPreference()
    if len(rows) == 1:
        return rows[0]
    latest = rows[0]
    chosen = next((r.channel for r in rows if r.channel != ContactPreference.Channel.AUTO),
                  ContactPreference.Channel.AUTO)
    if any(r.channel == ContactPreference.Channel.NONE for r in rows):
        chosen = ContactPreference.Channel.NONE
    return ContactPreference(citizen=citizen, channel=chosen, language=latest.language,
                             notices=all(r.notices for r in rows),
                             campaigns=all(r.campaigns for r in rows))


def may_message(citizen_or_number: Citizen | str, channel: ChannelName, *,
                purpose: Purpose = "notice") -> bool:
    """May the hotline reach this citizen (or this phone number) on ``channel`` for
    ``purpose``? Honours TD, the do-not-call list and the citizen's preference."""
    if isinstance(citizen_or_number, Citizen):
        citizen: Citizen | None = citizen_or_number
        phone = citizen_or_number.phone
    else:
        phone = normalise_phone(citizen_or_number)
        citizen = Citizen.objects.filter(phone=phone).first() if phone else None
    if channel == "sms" and (not phone or opted_out(phone)):
        return False
    if channel == "voice" and (not phone or DoNotCall.objects.filter(phone=phone).exists()):
        return False
    if channel == "email" and not (citizen and citizen.email):
        return False
    pref = preference(citizen)
    if purpose == "campaign":
        return pref.campaigns
    if not pref.notices or pref.channel == ContactPreference.Channel.NONE:
        return False
    # A citizen who chose one written channel is not written to on the other; a survey call
    # is not a written message and is governed by the do-not-call list alone.
    if channel in ("sms", "email") and pref.channel in ("sms", "email"):
        return pref.channel == channel
    return True


def sent_in_last_day(citizen: Citizen, now: dt.datetime | None = None) -> int:
    """Notices and survey messages sent to the citizen in the last 24 hours."""
    since = (now or timezone.now()) - dt.timedelta(days=1)
    notices = CitizenNotice.objects.filter(order__citizen=citizen, at__gte=since,
                                           status=CitizenNotice.Status.SENT).count()
    surveys = 0
    if citizen.phone:
        surveys += SmsMessage.objects.filter(
            direction=SmsMessage.Direction.OUTBOUND, phone=citizen.phone, purpose="survey",
            created_at__gte=since).exclude(status=SmsMessage.Status.REFUSED).count()
    if citizen.email:
        surveys += OutboundMail.objects.filter(to=citizen.email, purpose="survey",
                                               sent_at__gte=since).count()
    return notices + surveys


def within_daily_limit(citizen: Citizen, now: dt.datetime | None = None) -> bool:
    return sent_in_last_day(citizen, now) < int(settings.HOTLINE_NOTICES_PER_CITIZEN_DAY)
