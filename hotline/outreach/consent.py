"""Whether the hotline may write to, call or fax someone: the one check every outreach sender
makes before it sends (notices, surveys, campaigns and their polls, appointment reminders,
partners' rating requests).

``may_message(citizen_or_address, channel, purpose=)`` says no when the citizen opted out of
that channel (an SMS answered TD, kept by intake as the one SMS list; the do-not-call list for
calls and faxes), when their preference says no notices or another written channel, or, for
campaigns and polls, when they switched those off. ``refusal`` says why; ``refusals`` answers
for many addresses at once (a campaign's upload) by the same rule (``_decide``).
``within_daily_limit`` is the rate limit per citizen: no more than
HOTLINE_NOTICES_PER_CITIZEN_DAY messages of ours in 24 hours, every order and purpose together
(intake also caps SMS per phone and hour).

Campaigns are opt-out (SPEC 5: "pacing, rate limits and opt-out"): an address nobody has
registered, or a citizen with no preference, may receive a campaign until they say no."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Literal

from django.conf import settings
from django.db.models.functions import Lower
from django.utils import timezone

from hotline.core.phones import normalise_phone
from hotline.intake.models import CitizenNotice, OutboundMail, SmsMessage, SmsOptOut
from hotline.orders.models import Citizen
from hotline.outreach.models import ContactPreference, DoNotCall

ChannelName = Literal["sms", "email", "voice", "fax"]
Purpose = Literal["notice", "survey", "campaign", "reminder"]

# Reasons, as the results pages and the tests read them.
TD = "opted out (TD)"
DO_NOT_CALL = "do-not-call"
NO_CAMPAIGNS = "opted out of campaigns"
NO_NOTICES = "opted out (preference)"
OTHER_CHANNEL = "prefers another channel"
NO_ADDRESS = "no address for this channel"
# Our own messages the daily limit counts besides the order notices (SmsMessage / OutboundMail
# purposes).
COUNTED_PURPOSES = ("survey", "campaign", "reminder")
CHUNK = 500


def is_email(address: str) -> bool:
    return "@" in address


def combine(rows: Sequence[ContactPreference], citizen: Citizen | None = None
            ) -> ContactPreference:
    """Several rows (two records of one person merged, or citizens sharing an address) read
    as the stricter: a "no" in any stands, and the channel and language of the one changed
    last. No row: the defaults (not saved)."""
    if not rows:
        return ContactPreference(citizen=citizen) if citizen is not None else ContactPreference()
    if len(rows) == 1:
        return rows[0]
    ordered = sorted(rows, key=lambda r: (r.updated_at or timezone.now(), r.pk or 0),
                     reverse=True)
    latest = ordered[0]
    chosen = next((r.channel for r in ordered if r.channel != ContactPreference.Channel.AUTO),
                  ContactPreference.Channel.AUTO)
    if any(r.channel == ContactPreference.Channel.NONE for r in rows):
        chosen = ContactPreference.Channel.NONE
    return ContactPreference(citizen=citizen or latest.citizen, channel=chosen,
                             language=latest.language, notices=all(r.notices for r in rows),
                             campaigns=all(r.campaigns for r in rows))


def preference(citizen: Citizen | None) -> ContactPreference:
    """The citizen's preference, or the defaults (not saved) when they have none."""
    rows = list(ContactPreference.objects.filter(citizen=citizen)) \
        if citizen is not None and citizen.pk is not None else []
    return combine(rows, citizen)


def _decide(channel: str, purpose: str, *, has_address: bool, td: bool, dnc: bool,
            pref: ContactPreference) -> str:
    """The rule itself: "" when the message may go, else why not."""
    if not has_address:
        return NO_ADDRESS
    if channel == "sms" and td:
        return TD
    if channel in ("voice", "fax") and dnc:
        return DO_NOT_CALL
    if purpose == "campaign":
        return "" if pref.campaigns else NO_CAMPAIGNS
    if not pref.notices or pref.channel == ContactPreference.Channel.NONE:
        return NO_NOTICES
    # A citizen who chose one written channel is not written to on the other; a survey call
    # is not a written message and is governed by the do-not-call list alone.
    if channel in ("sms", "email") and pref.channel in ("sms", "email") \
            and pref.channel != channel:
        return OTHER_CHANNEL
    return ""


def citizens_of(address: str) -> list[Citizen]:
    if is_email(address):
        return list(Citizen.objects.filter(email__iexact=address.strip()))
    phone = normalise_phone(address)
    return list(Citizen.objects.filter(phone=phone)) if phone else []


def refusal(citizen_or_address: Citizen | str, channel: ChannelName, *,
            purpose: Purpose = "notice") -> str:
    """Why the hotline may not reach this citizen (or this phone number, fax number or email
    address) on ``channel`` for ``purpose``; "" when it may."""
    if isinstance(citizen_or_address, Citizen):
        citizen = citizen_or_address
        phone, email = citizen.phone, citizen.email
        pref = preference(citizen)
    else:
        address = citizen_or_address.strip()
        email = address if is_email(address) else ""
        phone = "" if email else normalise_phone(address)
        found = citizens_of(address)
        pref = combine(list(ContactPreference.objects.filter(citizen__in=found))
                       if found else [])
    has = bool(email) if channel == "email" else bool(phone)
    td = channel == "sms" and has and SmsOptOut.objects.filter(phone=phone).exists()
    dnc = channel in ("voice", "fax") and has and DoNotCall.objects.filter(phone=phone).exists()
    return _decide(channel, purpose, has_address=has, td=td, dnc=dnc, pref=pref)


def may_message(citizen_or_address: Citizen | str, channel: ChannelName, *,
                purpose: Purpose = "notice") -> bool:
    """May the hotline reach this citizen (or this address) on ``channel`` for ``purpose``?
    Honours TD, the do-not-call list and the citizen's preference."""
    return not refusal(citizen_or_address, channel, purpose=purpose)


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


def refusals(addresses: Sequence[str], channel: ChannelName, *,
             purpose: Purpose = "campaign") -> dict[str, str]:
    """``refusal`` for many addresses of one kind at once (a campaign of 10000): address ->
    reason for those that may not be reached, in a few queries per 500 addresses."""
    out: dict[str, str] = {}
    for chunk in _chunks(list(addresses)):
        email = channel == "email"
        keys = {a: (a.strip().lower() if email else normalise_phone(a)) for a in chunk}
        wanted = [k for k in keys.values() if k]
        td: set[str] = set()
        dnc: set[str] = set()
        if channel == "sms":
            td = set(SmsOptOut.objects.filter(phone__in=wanted).values_list("phone", flat=True))
        if channel in ("voice", "fax"):
            dnc = set(DoNotCall.objects.filter(phone__in=wanted).values_list("phone", flat=True))
        prefs: dict[str, list[ContactPreference]] = {}
        rows = ContactPreference.objects.select_related("citizen")
        rows = (rows.annotate(key=Lower("citizen__email")).filter(key__in=wanted) if email
                else rows.filter(citizen__phone__in=wanted))
        for row in rows:
            key = row.citizen.email.strip().lower() if email else row.citizen.phone
            prefs.setdefault(key, []).append(row)
        for address, key in keys.items():
            why = _decide(channel, purpose, has_address=bool(key), td=key in td,
                          dnc=key in dnc, pref=combine(prefs.get(key, [])))
            if why:
                out[address] = why
    return out


def sent_in_last_day(citizen: Citizen, now: dt.datetime | None = None) -> int:
    """Notices, survey, campaign and reminder messages sent to the citizen in 24 hours."""
    since = (now or timezone.now()) - dt.timedelta(days=1)
    notices = CitizenNotice.objects.filter(order__citizen=citizen, at__gte=since,
                                           status=CitizenNotice.Status.SENT).count()
    others = 0
    if citizen.phone:
        others += SmsMessage.objects.filter(
            direction=SmsMessage.Direction.OUTBOUND, phone=citizen.phone,
            purpose__in=COUNTED_PURPOSES, created_at__gte=since).exclude(
            status__in=(SmsMessage.Status.REFUSED, SmsMessage.Status.FAILED)).count()
    if citizen.email:
        others += OutboundMail.objects.filter(to__iexact=citizen.email,
                                              purpose__in=COUNTED_PURPOSES,
                                              status=OutboundMail.Status.SENT,
                                              sent_at__gte=since).count()
    return notices + others


def within_daily_limit(citizen: Citizen | None, now: dt.datetime | None = None) -> bool:
    """Below the per-citizen daily limit (an address nobody registered has no count)."""
    if citizen is None:
        return True
    return sent_in_last_day(citizen, now) < int(settings.HOTLINE_NOTICES_PER_CITIZEN_DAY)
