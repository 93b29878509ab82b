"""The desk's softphone registrations: the signalling between an agent's browser and a gateway.

The browser gathers its ICE candidates and posts the whole SDP offer (``do_offer_softphone``);
a gateway claims the offer with one conditional UPDATE (``claim_softphone_offers``: several
gateways never serve the same one), answers it with its own complete SDP
(``do_answer_softphone``) and the browser reads the answer (``softphone_session_for``). The
same rows say when a registration ends: the agent signs out or opens another desk (the row
is closed, ``do_sign_out`` and ``do_offer_softphone``, and the gateway drops its peer:
``closed_softphones``), or the gateway's peer
fails (``do_fail_softphone``).

Only an agent whose extension is set to the softphone (``SipExtension.phone``) and who is
signed in may register one; a registration is the agent's own, nobody else reads it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.contactcentre.models import (
    AgentStatus,
    PhoneKind,
    SipExtension,
    SoftphoneSession,
    SoftphoneState,
    State,
)
from hotline.contactcentre.services import DESK_ROLES, SOFTPHONE_OPEN
from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.directory.models import User

OPEN_STATES = SOFTPHONE_OPEN
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_SDP_CHARS = 20_000  # a browser's offer with audio, a data channel and a few candidates: ~3k
OFFER_EXPIRES_S = 30  # an offer no gateway took by then is refused (no gateway running)


@dataclass(frozen=True)
class ClaimedOffer:
    session_id: int
    agent_id: int
    extension: str
    offer_sdp: str


def check_softphone_agent(actor: User) -> SipExtension:
    """The agent's extension if they may register the desk's softphone now."""
    if actor.role not in DESK_ROLES:
        raise Forbidden(gettext_noop("only agents and shift monitors take calls"))
    extension = SipExtension.objects.filter(agent=actor, enabled=True).first()
    if extension is None:
        raise Conflict(gettext_noop("no SIP extension: ask the centre administrator"), "phone")
    if extension.phone != PhoneKind.SOFTPHONE:
        raise Conflict(gettext_noop("your calls ring on a SIP phone, not in the desk"), "phone")
    status = AgentStatus.objects.filter(pk=actor.pk).first()
    if status is None or status.state == State.SIGNED_OUT:
        raise Conflict(gettext_noop("sign in first"), "state")
    return extension


def _check_sdp(sdp: object) -> str:
    if not isinstance(sdp, str) or not sdp.startswith("v=0") or len(sdp) > MAX_SDP_CHARS \
            or _CONTROL.search(sdp):
        # SDP is text lines (RFC 8866); a NUL would not even fit PostgreSQL's text column.
        raise InvalidInput(gettext_noop("not a session description"), "sdp")
    if "m=audio" not in sdp:
        raise InvalidInput(gettext_noop("the offer has no audio"), "sdp")
    return sdp


def do_offer_softphone(actor: User, sdp: object, now: dt.datetime | None = None) -> SoftphoneSession:
    """The desk's offer: replaces any earlier registration of the agent (another tab, a
    reload), so the gateway rings one softphone per agent."""
    extension = check_softphone_agent(actor)
    offer = _check_sdp(sdp)
    when = now or timezone.now()
    with transaction.atomic():
        SoftphoneSession.objects.filter(agent=actor, state__in=OPEN_STATES).update(
            state=SoftphoneState.CLOSED, reason="replaced", updated_at=when)
        return SoftphoneSession.objects.create(
            agent=actor, extension=extension.number, offer_sdp=offer, created_at=when,
            updated_at=when)


def softphone_session_for(actor: User, session_id: int,
                          now: dt.datetime | None = None) -> SoftphoneSession:
    """The agent's own registration (the desk polls it for the gateway's answer)."""
    session = SoftphoneSession.objects.filter(pk=session_id, agent=actor).first()
    if session is None:
        raise NotFound(gettext_noop("no such softphone registration"), "session")
    when = now or timezone.now()
    if session.state == SoftphoneState.OFFERED and \
            session.created_at < when - dt.timedelta(seconds=OFFER_EXPIRES_S):
        updated = SoftphoneSession.objects.filter(
            pk=session.pk, state=SoftphoneState.OFFERED).update(
            state=SoftphoneState.FAILED, reason="no gateway took the offer", updated_at=when)
        if updated:
            session.refresh_from_db()
    return session


def do_close_softphone(actor: User, session_id: int, reason: str = "closed by the desk",
                       now: dt.datetime | None = None) -> None:
    SoftphoneSession.objects.filter(pk=session_id, agent=actor, state__in=OPEN_STATES).update(
        state=SoftphoneState.CLOSED, reason=reason[:128], updated_at=now or timezone.now())


# --- the gateway's side ------------------------------------------------------------------

def claim_softphone_offers(gateway: str, limit: int = 20,
                           now: dt.datetime | None = None) -> list[ClaimedOffer]:
    """Offers for this gateway to answer, each claimed with one conditional UPDATE."""
    when = now or timezone.now()
    fresh = when - dt.timedelta(seconds=OFFER_EXPIRES_S)
    out = []
    rows = SoftphoneSession.objects.filter(state=SoftphoneState.OFFERED, created_at__gte=fresh) \
        .values_list("pk", "agent_id", "extension", "offer_sdp")[:limit]
    for pk, agent_id, extension, sdp in rows:
        claimed = SoftphoneSession.objects.filter(pk=pk, state=SoftphoneState.OFFERED).update(
            state=SoftphoneState.CLAIMED, gateway=gateway, updated_at=when)
        if claimed:
            out.append(ClaimedOffer(pk, agent_id, extension, sdp))
    return out


def do_answer_softphone(session_id: int, gateway: str, sdp: str,
                        now: dt.datetime | None = None) -> bool:
    """The gateway's answer; False if the desk closed the registration meanwhile."""
    return bool(SoftphoneSession.objects.filter(
        pk=session_id, gateway=gateway, state=SoftphoneState.CLAIMED).update(
        state=SoftphoneState.ANSWERED, answer_sdp=sdp, updated_at=now or timezone.now()))


def do_fail_softphone(session_id: int, gateway: str, reason: str,
                      now: dt.datetime | None = None) -> None:
    SoftphoneSession.objects.filter(pk=session_id, gateway=gateway, state__in=OPEN_STATES) \
        .update(state=SoftphoneState.FAILED, reason=reason[:128], updated_at=now or timezone.now())


def closed_softphones(gateway: str, session_ids: list[int]) -> set[int]:
    """Which of the gateway's registrations have ended on the desk's side."""
    if not session_ids:
        return set()
    still_open = set(SoftphoneSession.objects.filter(
        pk__in=session_ids, gateway=gateway, state__in=OPEN_STATES).values_list("pk", flat=True))
    return set(session_ids) - still_open


def softphone_extensions() -> set[str]:
    """The enabled extensions whose agent takes calls in the desk (the gateway rings those
    through their softphone, never a SIP binding)."""
    return set(SipExtension.objects.filter(enabled=True, phone=PhoneKind.SOFTPHONE)
               .values_list("number", flat=True))

