"""The outbound dialler's database side: synchronous Django code the dialler runs in worker
threads (never on the event loop), like ``hotline.voice.services`` for inbound calls.

- ``load_trunk``: the active ``outreach.Trunk`` as plain ``TrunkSettings`` (names resolved to
  addresses here, in the thread), or the HOTLINE_SIP_TRUNK fallback, or None.
- ``record_contact``: the outbound phone Contact of an answered call (direction outbound),
  linked to the call's order; its agent is the call's agent in preview dialling. The call's
  ``answered_at`` is written then too, so the desk knows the citizen answered mid-call.
- ``store_recording``: a recording of the call (an IVR "record" node, or the whole bridged
  conversation in agent mode) kept as a contactcentre ``CallRecording`` of that contact and so
  attached to the contact's orders. A file that cannot be stored stays in the recordings
  folder under a name that says which outbound call it belongs to; ``recover_recordings``
  stores such files when a gateway starts again: a half-finished recording is never lost.
- ``write_status``: the gateway's ``TrunkStatus`` row (registration state for the admin).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import socket
import uuid
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.orders.contacts import NewContact, do_record_contact, do_set_contact_summary
from hotline.orders.models import Channel, Contact
from hotline.orders.sweeps import system_user
from hotline.outreach.models import OutboundCall, Trunk
from hotline.outreach.models_dialler import TrunkStatus
from hotline.voice.sip.registration import TrunkAccount
from hotline.voice.sip.transaction import Address

logger = logging.getLogger(__name__)

DEFAULT_MAX_CONCURRENT = 30
RECORDING_NAME = re.compile(r"^outbound-(?P<gateway>[A-Za-z0-9_.-]+)-o(?P<call>\d+)-[0-9a-f]+\.wav$")
_INTAKE_ROLES = frozenset({"agent", "monitor", "centre_admin"})


@dataclass(frozen=True)
class TrunkSettings:
    """One trunk as the dialler uses it (no Django object on the event loop)."""

    name: str
    registrar: Address  # resolved address
    domain: str  # Request-URI and registration domain
    proxy: Address | None  # where INVITEs go instead of the registrar
    username: str
    auth_username: str
    password: str
    register: bool
    expires: int
    caller_id: str
    max_concurrent: int
    trunk_id: int | None = None  # None: HOTLINE_SIP_TRUNK, no row

    @property
    def destination(self) -> Address:
        return self.proxy or self.registrar

    @property
    def account(self) -> TrunkAccount | None:
        if not self.register or not self.username:
            return None
        return TrunkAccount(registrar=self.registrar, domain=self.domain,
                            username=self.username, password=self.password,
                            expires=self.expires, auth_username=self.auth_username or None)

    @property
    def auth(self) -> tuple[str, str] | None:
        """The INVITE's digest credentials (a 401/407 is answered once per nonce)."""
        if not self.password:
            return None
        return (self.auth_username or self.username, self.password)

    def uri(self, number: str) -> str:
        return f"sip:{number}@{self.domain}"


def _resolve(host: str, port: int) -> Address:
    """An IP address for ``host`` (the UDP socket sends to addresses, not names)."""
    infos = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_DGRAM)
    return str(infos[0][4][0]), port


def _host_port(value: str, default_port: int) -> tuple[str, int]:
    from hotline.env import parse_host_port

    value = value.strip().removeprefix("sip:").split(";", 1)[0]
    return parse_host_port(value, default_port, "outbound proxy")


def load_trunk(fallback: Address | None) -> TrunkSettings | None:
    """The active trunk (the newest edited when several are active), else ``fallback``
    (HOTLINE_SIP_TRUNK) as a static trunk without registration, else None."""
    row = Trunk.objects.filter(is_active=True).order_by("-updated_at", "-pk").first()
    if row is None:
        if fallback is None:
            return None
        host, port = fallback
        return TrunkSettings(name="HOTLINE_SIP_TRUNK", registrar=(host, port),
                             domain=f"{host}:{port}", proxy=None, username="", auth_username="",
                             password="", register=False, expires=300, caller_id="12345",
                             max_concurrent=DEFAULT_MAX_CONCURRENT)
    registrar = _resolve(row.registrar_host, row.registrar_port)
    proxy = None
    if row.outbound_proxy.strip():
        proxy = _resolve(*_host_port(row.outbound_proxy, 5060))
    domain = row.domain.strip() or (row.registrar_host if row.registrar_port == 5060
                                    else f"{row.registrar_host}:{row.registrar_port}")
    return TrunkSettings(
        name=row.name, registrar=registrar, domain=domain, proxy=proxy,
        username=row.username, auth_username=row.auth_username, password=row.password,
        register=row.register, expires=max(30, row.register_expires),
        caller_id=row.caller_id or "12345", max_concurrent=max(1, row.max_concurrent),
        trunk_id=row.pk)


@dataclass(frozen=True)
class CallFacts:
    """What the gateway needs of an outbound call beyond its ``CallJob``."""

    order_id: int | None
    order_number: str
    agent_id: int | None
    ref: str


def call_facts(call_id: int) -> CallFacts:
    call = OutboundCall.objects.select_related("order").get(pk=call_id)
    return CallFacts(call.order_id, call.order.number if call.order is not None else "",
                     call.agent_id, call.ref)


def record_contact(call_id: int, number: str, sip_call_id: str, summary: str = "") -> int:
    """The outbound phone Contact of an answered call, linked to the call's order."""
    call = OutboundCall.objects.select_related("agent").get(pk=call_id)
    actor = system_user()
    if call.agent is not None and call.agent.role in _INTAKE_ROLES and call.agent.is_active:
        actor = call.agent  # preview dialling: the agent made the call
    with transaction.atomic():
        contact = do_record_contact(actor, NewContact(
            channel=Channel.PHONE, direction=Contact.Direction.OUTBOUND,
            summary=summary or _("Outbound call (%(purpose)s)") % {
                "purpose": call.get_purpose_display()},
            citizen_phone=number, external_id=f"sip:{sip_call_id}"[:128],
            called_number=number))
        if call.order_id is not None:
            contact.orders.add(call.order_id)
        # Answered now, while the call goes on: the desk lets the agent record a call back's
        # outcome from this moment (not while the citizen's phone still rings).
        OutboundCall.objects.filter(pk=call_id, answered_at__isnull=True).update(
            answered_at=timezone.now())
    return contact.pk


def set_summary(contact_id: int, summary: str) -> None:
    do_set_contact_summary(contact_id, summary)


def store_recording(contact_id: int | None, path: str, seconds: float) -> str | None:
    """Keep a recording with the outbound contact (and its orders); the stored file's name,
    None when there is no contact yet (the working file stays for ``recover_recordings``)."""
    from hotline.contactcentre import acd_services
    from hotline.contactcentre.models import CallRecording

    pk = acd_services.store_recording(None, contact_id, path, seconds)
    if pk is None:
        return None
    return str(CallRecording.objects.get(pk=pk).file.name)


def recording_name(gateway: str, call_id: int) -> str:
    tag = re.sub(r"[^A-Za-z0-9_.-]", "_", gateway)[:40] or "gateway"
    return f"outbound-{tag}-o{call_id}-{uuid.uuid4().hex}.wav"


def recover_recordings(directory: Path, gateway: str) -> int:
    """Store the outbound recordings a previous run of this gateway left behind (killed mid
    call, or the database was down) with their calls' contacts."""
    tag = re.sub(r"[^A-Za-z0-9_.-]", "_", gateway)[:40] or "gateway"
    stored = 0
    for path in sorted(Path(directory).glob("*/outbound-*.wav")):
        match = RECORDING_NAME.match(path.name)
        if match is None or match["gateway"] != tag:
            continue
        contact_id = (OutboundCall.objects.filter(pk=int(match["call"]))
                      .values_list("contact_id", flat=True).first())
        if contact_id is None:
            continue  # no contact (never answered, or not reported yet): kept
        try:
            with wave.open(str(path), "rb") as wav:
                seconds = wav.getnframes() / float(wav.getframerate() or 8000)
        except (wave.Error, EOFError, OSError):
            logger.warning("recording %s is unreadable: kept where it is", path)
            continue
        if store_recording(contact_id, str(path), seconds) is not None:
            path.unlink(missing_ok=True)
            stored += 1
    return stored


def write_status(gateway: str, trunk: TrunkSettings | None, state: str, *, sip_status: int = 0,
                 reason: str = "", registered_at: dt.datetime | None = None,
                 expires_at: dt.datetime | None = None, active_calls: int = 0) -> None:
    values: dict[str, Any] = {
        "trunk_id": trunk.trunk_id if trunk is not None else None,
        "trunk_name": trunk.name[:64] if trunk is not None else "",
        "state": state, "sip_status": sip_status, "reason": reason[:255],
        "active_calls": active_calls,
        "max_concurrent": trunk.max_concurrent if trunk is not None else 0,
        "updated_at": timezone.now(),
    }
    if registered_at is not None or state != TrunkStatus.State.REGISTERED:
        values["registered_at"] = registered_at
        values["expires_at"] = expires_at
    TrunkStatus.objects.update_or_create(gateway=gateway[:64], defaults=values)
