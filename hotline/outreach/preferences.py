"""The citizen's own say over how the hotline reaches them: the preference page's services.

Every mail the hotline sends a citizen (notices, surveys, campaigns) carries a link with a
signed token naming the address (``preference_link``; no login: holding the mail proves the
address) and a List-Unsubscribe header (``unsubscribe_headers``, RFC 2369 and RFC 8058
one-click). A citizen without the mail proves their phone with an SMS code on the portal.
Either way ``do_change_preference`` writes the new channel, language, notices and campaigns
choice onto every preference row of the citizens behind that address (``consent`` reads them at
the next message, so a change is honoured at once) and records the change
(``PreferenceChange``: by which proof, when, before and after). An address nobody registered
yet becomes a citizen here, as on any channel. Stopping SMS is intake's TD list
(``SmsOptOut``), the one SMS list: only a proven phone may stop or restart it here."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hotline.core.errors import ServiceError
from hotline.core.masking import mask_emails
from hotline.core.phones import mask_phone, normalise_phone
from hotline.directory.models import User
from hotline.intake.models import SmsOptOut
from hotline.orders.citizens import find_or_register_citizen
from hotline.orders.models import Citizen
from hotline.outreach import consent
from hotline.outreach.models import ContactPreference, PreferenceChange

SALT = "hotline.outreach.preference-link"
KINDS = ("notice", "campaign")
LANGUAGES = ("zh-hans", "en")
FOOTER = gettext_noop("To stop these mails, or to change how 12345 reaches you: %(link)s")


class LinkRefused(ServiceError):
    """A preference link that is not ours (tampered, cut short)."""

    status = 400


class LinkExpired(LinkRefused):
    status = 410


@dataclass(frozen=True)
class Choice:
    channel: str = ContactPreference.Channel.AUTO
    language: str = "zh-hans"
    notices: bool = True
    campaigns: bool = True


@dataclass(frozen=True)
class Current:
    """What the page shows: the address, the combined preference, whether SMS is stopped."""

    address: str
    citizens: list[Citizen]
    choice: Choice
    sms_stopped: bool


# --- the link ----------------------------------------------------------------------------

def preference_token(address: str, kind: str = "notice") -> str:
    """A token naming ``address`` (an email address or a phone) and the kind of mail it came
    in (what a one-click unsubscribe stops)."""
    return signing.dumps({"a": address.strip().lower(), "k": kind if kind in KINDS else "notice"},
                         salt=SALT, compress=True)


def read_token(token: str) -> tuple[str, str]:
    """(address, kind) of a token; LinkExpired past HOTLINE_PREFERENCE_LINK_DAYS, LinkRefused
    for anything not made by ``preference_token``."""
    max_age = dt.timedelta(days=int(settings.HOTLINE_PREFERENCE_LINK_DAYS))
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkExpired(gettext_noop("This link has expired. Use the link in a newer message, "
                                       "or confirm your phone number on the portal.")) from None
    except signing.BadSignature:
        raise LinkRefused(gettext_noop("This link is not valid. Check that it was copied "
                                       "whole.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("a"), str) or not data["a"]:
        raise LinkRefused(gettext_noop("This link is not valid. Check that it was copied whole."))
    return data["a"], str(data.get("k", "notice"))


def preference_link(address: str, kind: str = "notice") -> str:
    return (f"{settings.HOTLINE_PUBLIC_URL.rstrip('/')}/citizen/preferences/"
            f"{preference_token(address, kind)}/")


def unsubscribe_link(address: str, kind: str) -> str:
    return (f"{settings.HOTLINE_PUBLIC_URL.rstrip('/')}/citizen/unsubscribe/"
            f"{preference_token(address, kind)}/")


def unsubscribe_headers(address: str, kind: str) -> dict[str, str]:
    """List-Unsubscribe (a link, no mailto: one place decides) with one-click POST."""
    return {"List-Unsubscribe": f"<{unsubscribe_link(address, kind)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def mail_footer(address: str, kind: str, language: str = "zh-hans") -> str:
    with translation.override(language if language in LANGUAGES else "zh-hans"):
        return "\n\n-- \n" + _(FOOTER) % {"link": preference_link(address, kind)}


# --- reading and changing ------------------------------------------------------------------

def shown_address(address: str) -> str:
    """The address as the page shows it: masked (a forwarded mail must not give it away)."""
    return mask_emails(address) if consent.is_email(address) else mask_phone(address)


def _choice_of(pref: ContactPreference) -> Choice:
    return Choice(channel=pref.channel, language=pref.language, notices=pref.notices,
                  campaigns=pref.campaigns)


def _phone_of(address: str) -> str:
    return "" if consent.is_email(address) else normalise_phone(address)


def current(address: str) -> Current:
    citizens = consent.citizens_of(address)
    rows = list(ContactPreference.objects.filter(citizen__in=citizens)) if citizens else []
    phones = {p for p in [_phone_of(address), *(c.phone for c in citizens)] if p}
    return Current(address=address, citizens=citizens, choice=_choice_of(consent.combine(rows)),
                   sms_stopped=bool(phones) and SmsOptOut.objects.filter(phone__in=phones).exists())


def check_choice(choice: Choice) -> None:
    if choice.channel not in ContactPreference.Channel.values:
        raise ServiceError(gettext_noop("Choose how we may reach you."), field="channel")
    if choice.language not in LANGUAGES:
        raise ServiceError(gettext_noop("Choose a language."), field="language")


def do_change_preference(address: str, choice: Choice, *, via: str,
                         sms_stopped: bool | None = None, actor: User | None = None,
                         now: dt.datetime | None = None) -> Current:
    """The citizen's new choice for everyone behind ``address``; ``sms_stopped`` (None: left
    as it is) adds the phone to or takes it off the TD list and is for a proven phone only."""
    check_choice(choice)
    if via not in PreferenceChange.Via.values:
        raise ServiceError(gettext_noop("Unknown way of changing the preference."))
    when = now or timezone.now()
    phone = _phone_of(address)
    with transaction.atomic():
        citizens = consent.citizens_of(address)
        if not citizens:
            found = find_or_register_citizen(phone=phone,
                                             email="" if phone else address.strip().lower())
            citizens = [found] if found is not None else []
        stopped_before = bool(phone) and SmsOptOut.objects.filter(phone=phone).exists()
        if sms_stopped is not None and phone and sms_stopped != stopped_before:
            if via != PreferenceChange.Via.PHONE_CODE:
                raise ServiceError(gettext_noop("Only a confirmed phone can stop or restart SMS."))
            if sms_stopped:
                SmsOptOut.objects.get_or_create(phone=phone, defaults={
                    "at": when, "text": "preference page"})
            else:
                SmsOptOut.objects.filter(phone=phone).delete()
        stopped_after = stopped_before if sms_stopped is None or not phone else sms_stopped
        for citizen in citizens:
            _apply(citizen, choice, via, actor, when, sms=(stopped_before, stopped_after))
    return current(address)


def _apply(citizen: Citizen, choice: Choice, via: str, actor: User | None,
           when: dt.datetime, *, sms: tuple[bool, bool]) -> None:
    rows = list(ContactPreference.objects.select_for_update().filter(citizen=citizen))
    before = {**asdict(_choice_of(consent.combine(rows, citizen))), "sms_stopped": sms[0]}
    after = {**asdict(choice), "sms_stopped": sms[1]}
    if before == after:
        return
    if rows:  # every row of a merged citizen takes the choice, so their combination is it
        ContactPreference.objects.filter(pk__in=[r.pk for r in rows]).update(
            channel=choice.channel, language=choice.language, notices=choice.notices,
            campaigns=choice.campaigns, updated_at=when)
    else:
        ContactPreference.objects.create(citizen=citizen, channel=choice.channel,
                                         language=choice.language, notices=choice.notices,
                                         campaigns=choice.campaigns)
    PreferenceChange.objects.create(citizen=citizen, via=via, actor=actor, before=before,
                                    after=after, at=when)


def do_one_click(token: str, now: dt.datetime | None = None) -> Current:
    """RFC 8058: the mail program's POST stops what the mail was (campaigns, or notices)."""
    address, kind = read_token(token)
    choice = current(address).choice
    changed: dict[str, Any] = {"campaigns": False} if kind == "campaign" else {"notices": False}
    return do_change_preference(address, Choice(**{**asdict(choice), **changed}),
                                via=PreferenceChange.Via.ONE_CLICK, now=now)
