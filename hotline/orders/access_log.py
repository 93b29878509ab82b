"""The personal-data access log (等保 level 3): who saw which citizen unmasked, who played or
downloaded which recording or file, who exported what, and from where.

One writer, ``do_log_access``. Views call it *before* they build the response and let its
errors propagate: an access that cannot be recorded is not served (a log that silently misses
accesses when the database is busy is no audit). The entry is written in whatever transaction
the view runs in, so an order page that fails later does not leave a half-truth behind.

The table is append-only in the database (migration 0005): UPDATE is refused, DELETE only
succeeds for rows older than the legal minimum of 180 days. ``do_purge_access_log`` (run daily
by the scheduler) removes rows older than ``HOTLINE_ACCESS_LOG_RETENTION_DAYS``.

Only the audit administrator reads the log (``hotline.directory.duties.may_read_audit_log``);
reading and exporting it are accesses too, and are logged.
"""

from __future__ import annotations

import datetime as dt
import io
import ipaddress
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from hotline.core import clientaddr, spreadsheets
from hotline.core.errors import Forbidden, InvalidInput
from hotline.core.phones import is_plausible_phone, normalise_phone
from hotline.core.roles import Role
from hotline.directory.duties import may_read_audit_log
from hotline.directory.models import User
from hotline.orders import scope
from hotline.orders.citizens import find_citizen
from hotline.orders.models import (
    AccessKind,
    AccessLog,
    Attachment,
    Citizen,
    CitizenMerge,
    Order,
)

DETAIL_MAX = 255
PATH_MAX = 500
EXPORT_MAX_ROWS = 100_000  # one sheet; narrow the search for more


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address (``hotline.core.clientaddr``: forwarded headers believed only from
    HOTLINE_TRUSTED_PROXIES); None when there is none."""
    if request is None:
        return None
    try:
        return str(ipaddress.ip_address(clientaddr.client_address(request).strip()))
    except ValueError:
        return None


def _entry(
    user: User,
    kind: AccessKind,
    *,
    order: Order | None = None,
    citizen: Citizen | None = None,
    request: HttpRequest | None = None,
    detail: str = "",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    if kind not in AccessKind.values:
        raise InvalidInput(f"unknown access kind {kind!r}", field="kind")
    if citizen is None and order is not None and order.citizen_id is not None:
        citizen_id: int | None = order.citizen_id
    else:
        citizen_id = citizen.pk if citizen is not None else None
    return dict(
        at=now or timezone.now(),
        user=user if user.pk else None,
        username=user.get_username()[:150],
        role=str(user.role or "")[:16],
        kind=kind,
        order=order,
        order_number=order.number if order is not None else "",
        citizen_id=citizen_id,
        detail=detail[:DETAIL_MAX],
        path=request.get_full_path()[:PATH_MAX] if request is not None else "",
        address=client_address(request),
    )


def do_log_access(
    user: User,
    kind: AccessKind,
    *,
    order: Order | None = None,
    citizen: Citizen | None = None,
    request: HttpRequest | None = None,
    detail: str = "",
    now: dt.datetime | None = None,
) -> AccessLog:
    """Record one access. An order's access names its citizen too, so a search by the citizen's
    phone finds every order page that showed them."""
    return AccessLog.objects.create(**_entry(user, kind, order=order, citizen=citizen,
                                             request=request, detail=detail, now=now))


def do_log_order_accesses(
    user: User, kind: AccessKind, orders: list[tuple[Order, str]], request: HttpRequest | None
) -> list[AccessLog]:
    """Record one access per (order, detail) in one INSERT: a page that shows the citizens of
    many orders (the orders merged into one) costs one query, not one per order."""
    now = timezone.now()
    entries = [AccessLog(**_entry(user, kind, order=order, request=request, detail=detail,
                                  now=now))
               for order, detail in orders]
    return AccessLog.objects.bulk_create(entries) if entries else []


def shows_in_full(citizen: Citizen | None, name: str, phone: str) -> bool:
    """True when the ``name`` and ``phone`` a page shows reveal the citizen: the whole number,
    or the whole name (a one-character name masks to itself and reveals nothing more)."""
    if citizen is None:
        return False
    full_phone = bool(citizen.phone) and phone == citizen.phone
    full_name = len(citizen.name) > 1 and name == citizen.name
    return full_phone or full_name


def citizen_unmasked(user: User, order: Order) -> bool:
    """True when ``scope`` shows ``user`` the order's citizen in full."""
    if scope.citizen_hidden(user, order):
        return False
    return shows_in_full(order.citizen, scope.shown_name(user, order),
                         scope.shown_phone(user, order))


def do_log_citizen_view(
    user: User, order: Order, request: HttpRequest | None, detail: str = ""
) -> AccessLog | None:
    """Log a view of the order's citizen when it is shown unmasked; nothing when masked."""
    if not citizen_unmasked(user, order):
        return None
    return do_log_access(user, AccessKind.CITIZEN_VIEW, order=order, request=request,
                         detail=detail)


def do_log_file(
    user: User, attachment: Attachment, request: HttpRequest | None, *, play: bool = False
) -> AccessLog:
    """Log the playback or download of a recording, or the download of another file."""
    if attachment.kind == Attachment.Kind.RECORDING:
        kind = AccessKind.RECORDING_PLAY if play else AccessKind.RECORDING_DOWNLOAD
    else:
        kind = AccessKind.ATTACHMENT_DOWNLOAD
    return do_log_access(user, kind, order=attachment.order, request=request,
                         detail=f"#{attachment.pk} {attachment.name}")


def retention_days() -> int:
    return int(settings.HOTLINE_ACCESS_LOG_RETENTION_DAYS)


def do_purge_access_log(now: dt.datetime | None = None) -> int:
    """Delete entries older than the retention; returns how many. The database refuses to
    delete anything younger than 180 days whatever ``now`` says."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=retention_days())
    deleted, _ = AccessLog.objects.filter(at__lt=cutoff).delete()
    return deleted


# --- reading the log (the audit administrator) ---------------------------------------------


def check_may_read(user: User) -> None:
    if not may_read_audit_log(user):
        raise Forbidden("only the audit administrator reads the access log")


@dataclass
class AccessFilters:
    user: str = ""
    role: str = ""
    kind: str = ""
    order_number: str = ""
    citizen_phone: str = ""
    address: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def describe(self) -> str:
        """The filters in use, for the log entry of the search itself."""
        parts = [f"{name}={value}" for name, value in vars(self).items() if value]
        return " ".join(parts) or "all"


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def citizen_ids_for_phone(phone: str) -> set[int]:
    """Every citizen id the log may name for the person with this phone: the registry's record
    (found by its own phone or one kept from a merged record) and the records merged into it,
    whose ids the append-only log kept, so a merge never hides who saw the person before it."""
    citizen = find_citizen(phone=phone)
    if citizen is None:
        return set()
    merged = CitizenMerge.objects.filter(keep=citizen).values_list("merged_id", flat=True)
    return {citizen.pk, *merged}


def search_access_log(user: User, filters: AccessFilters) -> QuerySet[AccessLog]:
    """The entries matching ``filters``, newest first. A phone number is looked up in the
    citizen registry; the log itself stores no phone numbers."""
    check_may_read(user)
    qs = AccessLog.objects.all()
    if filters.user.strip():
        qs = qs.filter(username__icontains=filters.user.strip())
    if filters.role:
        if filters.role not in Role.values:
            raise InvalidInput(f"unknown role {filters.role[:32]!r}", field="role")
        qs = qs.filter(role=filters.role)
    if filters.kind:
        if filters.kind not in AccessKind.values:
            raise InvalidInput(f"unknown access kind {filters.kind[:32]!r}", field="kind")
        qs = qs.filter(kind=filters.kind)
    if filters.order_number.strip():
        qs = qs.filter(order_number=filters.order_number.strip())
    if filters.citizen_phone.strip():
        phone = normalise_phone(filters.citizen_phone)
        if not is_plausible_phone(phone):
            raise InvalidInput("phone number must have 5 to 20 digits", field="citizen_phone")
        qs = qs.filter(citizen_id__in=citizen_ids_for_phone(phone))
    if filters.address.strip():
        qs = qs.filter(address__startswith=filters.address.strip())
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InvalidInput("the start date is after the end date", field="date_from")
    if filters.date_from:
        qs = qs.filter(at__gte=_local_midnight(filters.date_from))
    if filters.date_to:
        qs = qs.filter(at__lt=_local_midnight(filters.date_to + dt.timedelta(days=1)))
    return qs.order_by("-at", "-pk")


def entry_row(entry: AccessLog) -> dict[str, Any]:
    return {
        "id": entry.pk, "at": entry.at, "user": entry.username, "role": entry.role,
        "kind": entry.kind, "order": entry.order_number, "citizen": entry.citizen_id,
        "detail": entry.detail, "path": entry.path, "address": entry.address or "",
    }


EXPORT_COLUMNS = ("id", "time", "user", "role", "kind", "order", "citizen", "what", "path",
                  "address")


def export_access_log(entries: QuerySet[AccessLog]) -> tuple[bytes, int]:
    """The entries as an .xlsx workbook (local times); returns the bytes and the row count.
    Every value is text, written by the shared writer: a logged path or file name starting
    with = + - @ opens as that text, never as a formula."""
    book, sheet = spreadsheets.new_workbook("access log", EXPORT_COLUMNS)
    count = 0
    for entry in entries[:EXPORT_MAX_ROWS].iterator():
        count += 1
        spreadsheets.write_row(sheet, (
            str(entry.pk), timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"),
            entry.username, entry.role, entry.kind, entry.order_number,
            str(entry.citizen_id or ""), entry.detail, entry.path, entry.address or "",
        ))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), count


def log_export(user: User, request: HttpRequest | None, detail: str) -> AccessLog:
    """An export made by a domain that cannot import orders (``core.export_log``)."""
    return do_log_access(user, AccessKind.EXPORT, request=request, detail=detail[:255])
