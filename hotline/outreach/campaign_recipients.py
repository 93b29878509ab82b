"""Who a campaign reaches: citizens chosen by district, street, tag or past calls of a
category, or an uploaded list (.xlsx or .csv: phone, name). Numbers (or emails) appear once.

A reporter's identity (举报, or a confidential order or citizen) never reaches anyone but the
centre: for every other viewer those citizens are not chosen at all (so no count, no row, no
call gives them away); for the centre they are chosen but marked ``confidential``, and the
campaign's pages show them only to the centre (``knows_reporters``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hotline.core.errors import InvalidInput
from hotline.core.phones import is_plausible_phone, normalise_phone
from hotline.core.spreadsheets import ImportRefused, Limits, open_workbook
from hotline.directory.models import Category, District, OrderType, Unit, UnitKind, User
from hotline.orders.models import Assignment, Citizen, CitizenTag, Order
from hotline.orders.scope import is_centre_user

MAX_RECIPIENTS = 10_000  # one campaign; a larger group is several campaigns
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
SOURCES = ("district", "street", "tag", "category", "upload")


@dataclass(frozen=True)
class Candidate:
    address: str  # the normalised phone, or the email address
    name: str
    citizen_id: int | None
    source: str
    confidential: bool = False


@dataclass(frozen=True)
class Choice:
    """What the builder form chose."""

    source: str
    district_id: int | None = None
    street_id: int | None = None
    tag: str = ""
    category_id: int | None = None
    since_days: int = 365
    upload: IO[bytes] | None = None
    upload_name: str = ""


def knows_reporters(user: User) -> bool:
    """Only the city centre's own staff may choose (and see) a reporter or a confidential
    citizen; a sub-centre's monitor, whatever the order pages show it, may not: a campaign to
    "past callers of a category" would tell its staff who reported."""
    return bool(user.is_superuser or is_centre_user(user))


def viewer_district(user: User) -> District | None:
    """A sub-centre's district: its campaigns stay inside it."""
    unit = user.unit
    if unit is not None and unit.kind == UnitKind.SUBCENTRE and not user.is_superuser:
        return unit.district
    return None


def _hidden_orders_q() -> Q:
    return Q(confidential=True) | Q(type=OrderType.REPORT) | Q(citizen__confidential=True)


def _from_orders(user: User, orders: QuerySet[Order], source: str, email: bool) -> list[Candidate]:
    """The citizens of ``orders``; a citizen known only through hidden orders is left out for
    a viewer who may not know them, and marked confidential for the centre."""
    hide = not knows_reporters(user)
    field = "citizen__email" if email else "citizen__phone"
    rows = orders.exclude(**{field: ""}).exclude(citizen__isnull=True)
    if hide:
        rows = rows.exclude(_hidden_orders_q())
    seen: dict[int, Candidate] = {}
    for citizen_id, name, address, order_conf, order_type, citizen_conf in (
            rows.values_list("citizen_id", "citizen__name", field, "confidential", "type",
                             "citizen__confidential")
            .order_by("citizen_id").distinct()[:MAX_RECIPIENTS * 4]):
        hidden = bool(order_conf or citizen_conf or order_type == OrderType.REPORT)
        before = seen.get(citizen_id)
        if before is not None:
            if before.confidential and not hidden:  # a plain order too: no longer only hidden
                seen[citizen_id] = Candidate(before.address, before.name, citizen_id, source,
                                             bool(citizen_conf))
            continue
        seen[citizen_id] = Candidate(address if email else normalise_phone(address), name,
                                     citizen_id, source, hidden)
    return list(seen.values())


def _orders_in(user: User, queryset: QuerySet[Order]) -> QuerySet[Order]:
    district = viewer_district(user)
    return queryset.filter(district=district) if district is not None else queryset


def candidates(user: User, choice: Choice, *, email: bool = False) -> list[Candidate]:
    """The recipients ``choice`` names, deduplicated; InvalidInput for a bad choice."""
    if choice.source not in SOURCES:
        raise InvalidInput(gettext_noop("Choose who receives the campaign."), field="source")
    if choice.source == "upload":
        found = read_upload(choice.upload, choice.upload_name, email=email)
    elif choice.source == "district":
        district = District.objects.filter(pk=choice.district_id or 0).first()
        if district is None:
            raise InvalidInput(gettext_noop("Choose a district."), field="district")
        mine = viewer_district(user)
        if mine is not None and mine.pk != district.pk:
            raise InvalidInput(gettext_noop("A sub-centre reaches its own district only."),
                               field="district")
        found = _from_orders(user, Order.objects.filter(district=district), "district", email)
    elif choice.source == "street":
        street = Unit.objects.filter(pk=choice.street_id or 0, kind=UnitKind.STREET).first()
        if street is None:
            raise InvalidInput(gettext_noop("Choose a street."), field="street")
        mine = viewer_district(user)
        if mine is not None and street.district_id != mine.pk:
            raise InvalidInput(gettext_noop("A sub-centre reaches its own district only."),
                               field="street")
        handled = Assignment.objects.filter(unit_id__in=street.descendant_ids())
        found = _from_orders(user, Order.objects.filter(pk__in=handled.values("order_id")),
                             "street", email)
    elif choice.source == "tag":
        found = _tagged(user, choice.tag, email)
    else:
        category = Category.objects.filter(pk=choice.category_id or 0).first()
        if category is None:
            raise InvalidInput(gettext_noop("Choose a category."), field="category")
        if not 1 <= choice.since_days <= 3660:
            raise InvalidInput(gettext_noop("Look back 1 to 3660 days."), field="since_days")
        since = timezone.now() - dt.timedelta(days=choice.since_days)
        orders = Order.objects.filter(category_id__in=_category_ids(category),
                                      created_at__gte=since)
        found = _from_orders(user, _orders_in(user, orders), "category", email)
    return dedupe(found)


def _category_ids(category: Category) -> list[int]:
    ids, frontier = [category.pk], [category.pk]
    while frontier:
        frontier = list(Category.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
        ids.extend(frontier)
    return ids


def _tagged(user: User, tag: str, email: bool) -> list[Candidate]:
    if tag not in CitizenTag.values:
        raise InvalidInput(gettext_noop("Choose a citizen tag."), field="tag")
    field = "email" if email else "phone"
    citizens = Citizen.objects.exclude(**{field: ""}).filter(tags__icontains=tag)
    district = viewer_district(user)
    if district is not None:
        citizens = citizens.filter(orders__district=district)
    hide = not knows_reporters(user)
    if hide:
        citizens = citizens.filter(confidential=False)
    found = []
    for pk, name, address, tags, confidential in citizens.values_list(
            "pk", "name", field, "tags", "confidential").distinct()[:MAX_RECIPIENTS * 2]:
        if isinstance(tags, list) and tag in tags:  # the text match found it; the list says so
            found.append(Candidate(address if email else normalise_phone(address), name, pk,
                                   "tag", bool(confidential)))
    return found


def dedupe(found: Iterable[Candidate]) -> list[Candidate]:
    """One row per address (the first seen wins); the campaign's size limit applies."""
    out: dict[str, Candidate] = {}
    for candidate in found:
        key = candidate.address.lower()
        if key and key not in out:
            out[key] = candidate
    if len(out) > MAX_RECIPIENTS:
        raise InvalidInput(gettext_noop("More than 10000 recipients: narrow the group or split "
                                        "the campaign."), field="source")
    return list(out.values())


# --- uploaded lists --------------------------------------------------------------------------

def _rows_of_upload(upload: IO[bytes], name: str) -> list[tuple[Any, ...]]:
    lower = name.lower()
    if lower.endswith(".csv"):
        data = upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise InvalidInput(gettext_noop("The list is larger than 2 MB."), field="upload")
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise InvalidInput(gettext_noop("The CSV file is neither UTF-8 nor GB18030 text."),
                               field="upload")
        rows = []
        for i, row in enumerate(csv.reader(io.StringIO(text))):
            if i > MAX_RECIPIENTS + 1:
                raise InvalidInput(gettext_noop("More than 10000 recipients: narrow the group or "
                                                "split the campaign."), field="upload")
            rows.append(tuple(row[:2]))
        return rows
    if lower.endswith(".xlsx"):
        try:
            book = open_workbook(upload, Limits.default(max_rows=MAX_RECIPIENTS + 1,
                                                        max_columns=16))
        except ImportRefused as refused:
            raise InvalidInput(refused.message, field="upload") from None
        try:
            sheet = book.worksheets[0]
            return [tuple(row[:2]) for row in book.rows(sheet)]
        finally:
            book.close()
    raise InvalidInput(gettext_noop("Upload the list as .xlsx or .csv (columns: phone, name)."),
                       field="upload")


def read_upload(upload: IO[bytes] | None, name: str, *, email: bool = False) -> list[Candidate]:
    """The rows of an uploaded list: the first column the phone (or email), the second the
    name; a header row is skipped; bad rows are refused with their line numbers."""
    if upload is None:
        raise InvalidInput(gettext_noop("Choose the list to upload."), field="upload")
    rows = _rows_of_upload(upload, name)
    found, bad = [], []
    for line, row in enumerate(rows, start=1):
        if not row or all(cell in (None, "") for cell in row):
            continue
        first = str(row[0] if row[0] is not None else "").strip()
        if isinstance(row[0], float) and row[0].is_integer():
            first = str(int(row[0]))  # a phone typed into Excel as a number
        person = str(row[1]).strip()[:64] if len(row) > 1 and row[1] is not None else ""
        if email:
            ok = "@" in first and "." in first.split("@")[-1] and len(first) <= 254
            address = first
        else:
            address = normalise_phone(first)
            ok = is_plausible_phone(address)
        if not ok:
            if line == 1:
                continue  # the header row
            bad.append(str(line))
            continue
        found.append(Candidate(address, person, None, "upload"))
    if bad:
        raise InvalidInput(_("These lines hold no valid %(what)s: %(lines)s.") % {
            "what": _("email address") if email else _("phone number"),
            "lines": ", ".join(bad[:20]) + ("…" if len(bad) > 20 else "")}, field="upload")
    if not found:
        raise InvalidInput(gettext_noop("The list holds no recipient."), field="upload")
    return found
