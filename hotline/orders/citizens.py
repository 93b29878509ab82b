"""The one citizen registry: every channel finds (or registers) the person behind a contact here.

A citizen is matched by phone (their own number, then a number kept from a merged record), then
by email, then by the keys channels know them by (``CitizenIdentity``: a chat session, an
Open311 account, a device). Creation is safe against two channels registering the same person
at once: the phone and every identity are unique in the database, and a writer that loses the
race finds the winner's row instead of making a second citizen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import IntegrityError, transaction

from hotline.core.phones import normalise_phone
from hotline.orders.models import Citizen, CitizenIdentity, IdentityKind

RACE_RETRIES = 3


def _by_identity(kind: str, value: str) -> Citizen | None:
    found = CitizenIdentity.objects.select_related("citizen").filter(kind=kind, value=value).first()
    return found.citizen if found is not None else None


def find_citizen(phone: str = "", email: str = "",
                 identities: Iterable[tuple[str, str]] = ()) -> Citizen | None:
    """The citizen these keys belong to: the phone, else (without a phone) the email, then each
    identity. A phone that matches nobody is a new person even when the email is known (a
    family shares a mailbox, never a caller's number)."""
    phone = normalise_phone(phone)
    email = email.strip()
    if phone:
        found = Citizen.objects.filter(phone=phone).first() or _by_identity(IdentityKind.PHONE,
                                                                            phone)
        if found is not None:
            return found
    elif email:
        found = (Citizen.objects.filter(email__iexact=email).order_by("pk").first()
                 or _by_identity(IdentityKind.EMAIL, email.lower()))
        if found is not None:
            return found
    for kind, value in identities:
        found = _by_identity(IdentityKind(kind), value)
        if found is not None:
            return found
    return None


def do_add_identity(citizen: Citizen, kind: str, value: str) -> bool:
    """Record that ``citizen`` is known by (kind, value); False when that key already belongs
    to someone (this citizen or another: a key is never moved silently, merging does that)."""
    if not value:
        return False
    try:
        with transaction.atomic():
            _identity, created = CitizenIdentity.objects.get_or_create(
                kind=IdentityKind(kind), value=value, defaults={"citizen": citizen})
    except IntegrityError:
        return False
    return created


def record_additions(citizen: Citizen, name: str, email: str,
                     tags: Sequence[str]) -> dict[str, object]:
    """What a returning citizen tells us that adds to the record (field -> new value); it
    never overwrites it. The create path asks first, to skip a transaction when it is empty."""
    additions: dict[str, object] = {}
    if name and not citizen.name:
        additions["name"] = name
    if email and not citizen.email:
        additions["email"] = email
    new_tags = [t for t in tags if t not in citizen.tags]
    if new_tags:
        additions["tags"] = [*citizen.tags, *new_tags]
    return additions


def _fill_blanks(citizen: Citizen, name: str, email: str, tags: Sequence[str]) -> None:
    additions = record_additions(citizen, name, email, tags)
    for field, value in additions.items():
        setattr(citizen, field, value)
    if additions:
        citizen.save(update_fields=list(additions))


def _register(phone: str, email: str, name: str, tags: Sequence[str], confidential: bool,
              identities: Sequence[tuple[str, str]]) -> Citizen | None:
    """A new citizen with its identities, or None when another writer registered one of the
    unique keys first (the caller looks again)."""
    try:
        with transaction.atomic():
            citizen = Citizen.objects.create(phone=phone, email=email, name=name, tags=list(tags),
                                             confidential=confidential)
            for kind, value in identities:
                CitizenIdentity.objects.create(citizen=citizen, kind=IdentityKind(kind),
                                               value=value)
    except IntegrityError:
        return None
    return citizen


def find_or_register_citizen(*, phone: str = "", email: str = "", name: str = "",
                             identities: Iterable[tuple[str, str]] = (),
                             tags: Sequence[str] = (), confidential: bool = False,
                             anonymous: bool = False) -> Citizen | None:
    """The citizen behind a contact on any channel, registered when new.

    ``identities`` are (``IdentityKind``, value) pairs; the ones the citizen does not have yet
    are added. Nothing to go by (no phone, email, identity or name) gives None, or a new
    anonymous citizen when ``anonymous`` (a work order always has a citizen)."""
    phone = normalise_phone(phone)
    email = email.strip()
    keys = [(IdentityKind(kind), value) for kind, value in identities if value]
    for _attempt in range(RACE_RETRIES):
        citizen = find_citizen(phone, email, keys)
        if citizen is not None:
            _fill_blanks(citizen, name, email, tags)
            for kind, value in keys:
                do_add_identity(citizen, kind, value)
            return citizen
        if not (phone or email or keys or name or anonymous):
            return None
        citizen = _register(phone, email, name, tags, confidential, keys)
        if citizen is not None:
            return citizen
    raise IntegrityError("could not register the citizen: its keys keep changing hands")
