"""The order list as an Excel workbook: the filtered orders the list shows, in its order, with
the citizen masked as the exporting user's role sees it (``orders.scope``: a department never
gets a 举报 reporter's name or number, a leader gets numbers masked).

Small exports are built while the browser waits; above ``HOTLINE_ORDER_EXPORT_INLINE_ROWS``
an ``OrderExport`` row is queued and ``portal.tasks.build_order_export_task`` builds it in the
worker, reporting its progress on the row. Either way the download is written to the access
log (``core.export_log``) before it is sent, with the row count.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from hotline.core import spreadsheets
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.masking import mask_personal_details
from hotline.directory.models import OrderType, User
from hotline.orders import scope
from hotline.orders.disclosure import redact_citizen
from hotline.orders.models import Channel, Order, OrderState
from hotline.portal.forms import OrderFilterForm
from hotline.portal.models import OrderExport
from hotline.portal.order_listing import beyond, ordered, sort_columns
from hotline.portal.queries import filtered_orders

CHUNK = 2000
KEPT = dt.timedelta(days=1)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LIST_KEYS = frozenset(OrderFilterForm.base_fields)


def inline_limit() -> int:
    return int(settings.HOTLINE_ORDER_EXPORT_INLINE_ROWS)


def max_rows() -> int:
    return int(settings.HOTLINE_ORDER_EXPORT_MAX_ROWS)


def clean_query(query: QueryDict) -> str:
    """Only the list's own filters (no page boundary, nothing else) are kept."""
    kept = QueryDict(mutable=True)
    for key in sorted(LIST_KEYS & set(query)):
        kept.setlist(key, [value[:200] for value in query.getlist(key)[:5]])
    return kept.urlencode()[:1000]


def orders_for(user: User, query: str, now: dt.datetime) -> tuple[QuerySet[Order], str]:
    """The filtered orders of a list query string and its sort; ``InvalidInput`` for filters
    the form refuses (an export must not quietly widen to everything)."""
    form = OrderFilterForm(QueryDict(query))
    if not form.is_valid():
        raise InvalidInput(_("Correct the filters before exporting."))
    qs = filtered_orders(user, form.cleaned_data, now).select_related("citizen")
    return qs, form.cleaned_data.get("sort") or ""


def header() -> list[str]:
    return [_("Acceptance number"), _("Registered"), _("Type"), _("Channel"), _("State"),
            _("Title"), _("District"), _("Category"), _("Lead unit"), _("Address"),
            _("Deadline"), _("Citizen"), _("Phone"), _("Confidential")]


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


class Labels:
    """The choices' labels in the current language, looked up once per export: Django's
    ``get_FOO_display`` hashes the lazy choices on every call (half the time of a large
    export)."""

    def __init__(self) -> None:
        self.type = {k: str(v) for k, v in OrderType.choices}
        self.channel = {k: str(v) for k, v in Channel.choices}
        self.state = {k: str(v) for k, v in OrderState.choices}
        self.confidential, self.yes = _("(confidential)"), _("Yes")


def row(user: User, order: Order, full_text: bool, labels: Labels | None = None) -> list[object]:
    labels = labels or Labels()
    hidden = scope.citizen_hidden(user, order)
    title = order.title if full_text else mask_personal_details(order.title)
    if hidden:  # a reporter's own name and number written into the title are blanked too
        title = redact_citizen(title, order.citizen.name, order.citizen.phone)
    return [
        order.number, _local(order.created_at), labels.type.get(order.type, order.type),
        labels.channel.get(order.channel, order.channel),
        labels.state.get(order.state, order.state), title,
        order.district.name if order.district else "",
        order.category.name if order.category else "",
        order.lead_unit.name if order.lead_unit else "",
        order.address if full_text else mask_personal_details(order.address),
        _local(order.handle_due or order.sign_due),
        labels.confidential if hidden else scope.shown_name(user, order),
        "" if hidden else scope.shown_phone(user, order),
        labels.yes if order.confidential or hidden else "",
    ]


def _chunks(qs: QuerySet[Order], sort: str, limit: int) -> Iterator[list[Order]]:
    """The orders in the list's order, read by keyset in chunks (no OFFSET, bounded memory)."""
    columns = sort_columns(sort)
    rest = limit
    boundary: list[Any] | None = None
    while rest > 0:
        page = qs if boundary is None else qs.filter(beyond(columns, boundary))
        rows = list(ordered(page, columns)[:min(CHUNK, rest)])
        if not rows:
            return
        yield rows
        rest -= len(rows)
        last = rows[-1]
        boundary = [getattr(last, name) for name, _desc in columns]


def build_workbook(user: User, qs: QuerySet[Order], sort: str, limit: int,
                   progress: Callable[[int], None] | None = None) -> tuple[bytes, int]:
    """The workbook's bytes and its row count (at most ``limit`` rows)."""
    full_text = user.is_superuser or user.role in scope.FULL_PHONE_ROLES | scope.DEPARTMENT_ROLES
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Work orders"))
    spreadsheets.write_streamed_row(sheet, header())
    count = 0
    labels = Labels()
    for chunk in _chunks(qs, sort, limit):
        for order in chunk:
            spreadsheets.write_streamed_row(sheet, row(user, order, full_text, labels))
        count += len(chunk)
        if progress is not None:
            progress(count)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), count


def file_name(now: dt.datetime) -> str:
    """Never personal data: what was searched stays out of the name."""
    return f"work-orders-{timezone.localtime(now).strftime('%Y%m%d-%H%M%S')}.xlsx"


# --- background exports ----------------------------------------------------------------------

def do_queue_export(user: User, query: str, total: int) -> OrderExport:
    from hotline.portal.tasks import build_order_export_task  # the task module imports this one

    # A workbook of citizens' data is kept a day, long enough to download it: each new export
    # removes the older ones (the table stays small, so no periodic job is needed for it).
    OrderExport.objects.filter(created_at__lt=timezone.now() - KEPT).delete()
    export = OrderExport.objects.create(user=user, query=query, total=min(total, max_rows()))
    transaction.on_commit(lambda: build_order_export_task.enqueue(export.pk))
    return export


def do_build_export(export_id: int, now: dt.datetime | None = None) -> OrderExport | None:
    """Build a queued export (idempotent: one claimed by another worker or done is left)."""
    claimed = OrderExport.objects.filter(
        pk=export_id, state=OrderExport.State.QUEUED).update(state=OrderExport.State.RUNNING)
    if not claimed:
        return None
    export = OrderExport.objects.select_related("user").get(pk=export_id)
    try:
        qs, sort = orders_for(export.user, export.query, now or timezone.now())

        def progress(done: int) -> None:
            OrderExport.objects.filter(pk=export_id).update(done=done)

        content, count = build_workbook(export.user, qs, sort, export.total or max_rows(),
                                        progress)
    except Exception:
        OrderExport.objects.filter(pk=export_id).update(
            state=OrderExport.State.FAILED, finished_at=timezone.now())
        raise
    OrderExport.objects.filter(pk=export_id).update(
        state=OrderExport.State.DONE, content=content, done=count, total=count,
        finished_at=timezone.now())
    export.refresh_from_db()
    return export


def get_export_for(user: User, export_id: int) -> OrderExport:
    # Someone else's export is "not found" too: ids are sequential and say nothing then.
    export = OrderExport.objects.filter(pk=export_id, user=user).first()
    if export is None:
        raise NotFound(_("No such export."))
    return export
