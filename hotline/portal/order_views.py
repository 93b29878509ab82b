"""The centre's order pages: the new-order form, one order's page and its actions (the list
is ``order_list_views``, the print view and the letter ``order_print_views``).

Views stay thin: they read forms, call ``services`` and render. A ``ServiceError`` becomes a
message and a 4xx answer (htmx requests get 200 so htmx swaps the page with the message in it).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from hotline.contactcentre.faxes import may_send_faxes
from hotline.core.errors import NotFound, ServiceError
from hotline.directory.models import User
from hotline.orders import access_log, scope
from hotline.orders.attachments import (
    do_attach,
    get_attachment_for,
    open_attachment,
    visible_attachments,
)
from hotline.orders.citizen_search import may_search_citizens
from hotline.orders.contacts import citizen_history
from hotline.orders.disclosure import Disclosure
from hotline.orders.lifecycle import ACTION_ROLES, Action, State
from hotline.orders.models import Attachment, Contact, Order, OrderAction
from hotline.orders.services import NewOrder, do_action, do_create_order, get_order_for
from hotline.portal import queries
from hotline.portal.forms import (
    ACTION_FORMS,
    ActionForm,
    action_form,
)
from hotline.portal.order_access import CREATE_ROLES, actions_for, may_create_orders
from hotline.triage import similar
from hotline.web.access import StaffRequest, role_required, staff_required
from hotline.web.forms import FilesForm, add_service_error
from hotline.web.order_form import NewOrderForm

OTHER_ORDERS_SHOWN = 10
CONTACTS_SHOWN = 10
SIMILAR_SHOWN = 5
SIMILAR_MIN_CHARS = 4  # fewer typed characters match everything


def _error_status(request: StaffRequest, status: int) -> int:
    return 200 if request.htmx else status


@role_required(may_create_orders, roles=CREATE_ROLES)
def order_new(request: StaffRequest) -> HttpResponse:
    form = NewOrderForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            key = data.pop("idempotency_key")
            files = request.FILES.getlist("uploads")
            try:
                with transaction.atomic():
                    order, created = do_create_order(
                        request.user, NewOrder(**data), idempotency_key=f"portal:{key}"
                    )
                    if created and files:
                        _attach_files(request, order, files, Attachment.Kind.INTAKE)
            except ServiceError as error:
                add_service_error(form, error)
                status = error.status
            else:
                messages.success(
                    request, _("Work order %(number)s registered.") % {"number": order.number}
                )
                return redirect("portal:order_detail", number=order.number)
        else:
            status = 422
    context = {"form": form, "files": FilesForm()}
    return render(request, "portal/order_new.html", context,
                  status=_error_status(request, status))


def _load(request: StaffRequest, number: str) -> Order:
    try:
        return get_order_for(request.user, number)
    except NotFound:
        raise Http404(_("No such work order.")) from None


def _detail_context(
    request: StaffRequest, order: Order, failed: ActionForm | None = None,
    failed_action: Action | None = None,
) -> dict[str, Any]:
    user = request.user
    now = timezone.now()
    seen = Disclosure(user)
    action_forms = []
    for action in actions_for(user, order):
        form = failed if action == failed_action and failed is not None else action_form(
            action, order=order, actor=user)
        action_forms.append({
            "action": action.value, "label": OrderAction(action.value).label, "form": form,
            "open": action == failed_action, "has_fields": bool(form.fields),
            "files": FilesForm() if action == Action.REPLY else None,
        })
    links = _links_context(user, order, {str(item["action"]) for item in action_forms})
    # Logged before the page is built: a view that cannot be logged is not shown.
    access_log.do_log_citizen_view(user, order, request)
    access_log.do_log_order_accesses(
        user, access_log.AccessKind.CITIZEN_VIEW,
        [(merged, f"merged into {order.number}") for merged, name, phone in links["merged_orders"]
         if access_log.shows_in_full(merged.citizen, name, phone)], request)
    other_orders, citizen_contacts = _citizen_history(user, order)
    return {
        **links,
        "order": order,
        "order_title": seen.order_title(order),
        "order_text": seen.order_text(order),
        "now": now,
        "other_orders": other_orders,
        "citizen_contacts": citizen_contacts,
        "may_open_citizen": may_search_citizens(user) and order.citizen_id is not None,
        "may_fax": may_send_faxes(user) and bool(order.reply_text.strip()),
        "faxes": list(order.faxes.order_by("-created_at")[:5]) if may_send_faxes(user) else [],
        "late": queries.is_late(order, now),
        "citizen_name": scope.shown_name(user, order),
        "citizen_phone": scope.shown_phone(user, order),
        "citizen_hidden": scope.citizen_hidden(user, order),
        "events": queries.event_targets(
            seen.events(order, order.events.select_related("unit").order_by("seq"))),
        "route": queries.route_preview(order) if order.state == State.ACCEPTED else None,
        "assignments": order.assignments.select_related("unit").order_by("-active", "assigned_at"),
        "attachments": [(a, seen.attachment_name(order, a))
                        for a in visible_attachments(user, order)],
        "action_forms": action_forms,
        "next": request.POST.get("next") or request.GET.get("next") or "",
    }


def _links_context(user: User, order: Order, allowed: set[str]) -> dict[str, Any]:
    """Linked orders, orders merged into this one (with their citizens, to inform them, for
    those who may know them: ``disclosure``) and similar open orders with link / merge buttons
    for those who may."""
    merged = [(m.order, m.name, m.phone) for m in Disclosure(user).merged(order)]
    found: list[similar.SimilarOrder] = []
    if similar.may_look_for_duplicates(user) and order.state in similar.OPEN_STATES:
        found = similar.similar_to_order(user, order, limit=SIMILAR_SHOWN)
    return {
        "links": similar.links_of(user, order), "merged_orders": merged, "similar": found,
        "may_link": Action.LINK.value in allowed, "may_unlink": Action.UNLINK.value in allowed,
        "may_merge": Action.MERGE.value in allowed,
    }


@role_required(similar.may_look_for_duplicates, roles=ACTION_ROLES[Action.LINK])
def order_similar_panel(request: StaffRequest) -> HttpResponse:
    """The new-order form's "possible duplicates" panel (htmx), for what is typed so far."""
    data = request.POST if request.method == "POST" else request.GET
    found: list[similar.SimilarOrder] | None = None
    text, title = data.get("text", "")[:20000], data.get("title", "")[:200]
    if len(text.strip()) + len(title.strip()) >= SIMILAR_MIN_CHARS:
        try:
            typed = similar.typed_request(
                text=text, title=title, address=data.get("address", "")[:255],
                district=data.get("district", "")[:32], phone=data.get("citizen_phone", "")[:32])
        except ServiceError:
            typed = similar.typed_request(text=text, title=title)  # an unknown district
        found = similar.find_similar(request.user, typed, limit=SIMILAR_SHOWN)
    return render(request, "portal/_similar_orders.html", {"similar": found})


def _citizen_history(user: User, order: Order) -> tuple[list[Order], list[Contact]]:
    """The citizen's other requests (open first) and their contacts on every channel, for the
    centre: repeat callers and what they said by mail, SMS or chat show here."""
    if scope.citizen_hidden(user, order) or order.citizen is None:
        return [], []
    try:
        orders, contacts = citizen_history(user, order.citizen)
    except ServiceError:
        return [], []
    return (list(orders.exclude(pk=order.pk)[:OTHER_ORDERS_SHOWN]),
            list(contacts.prefetch_related("orders")[:CONTACTS_SHOWN]))


@staff_required
def order_detail(request: StaffRequest, number: str) -> HttpResponse:
    order = _load(request, number)
    return render(request, "portal/order_detail.html", _detail_context(request, order))


def _safe_next(request: StaffRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _attach_files(request: StaffRequest, order: Order, files: list[Any], kind: str) -> None:
    for uploaded in files:
        do_attach(request.user, order, uploaded, kind)


@staff_required
def order_action(request: StaffRequest, number: str, action: str) -> HttpResponse:
    if request.method != "POST":
        return redirect("portal:order_detail", number=number)
    order = _load(request, number)
    try:
        act = Action(action)
    except ValueError:
        raise Http404(_("No such action.")) from None
    if act not in ACTION_FORMS:
        raise Http404(_("No such action."))
    form = action_form(act, request.POST, order=order, actor=request.user)
    status = 422
    if form.is_valid():
        files = request.FILES.getlist("uploads") if act == Action.REPLY else []
        try:
            with transaction.atomic():
                order = do_action(request.user, number, act, form.params())
                if files:
                    _attach_files(request, order, files, Attachment.Kind.REPLY)
        except ServiceError as error:
            add_service_error(form, error)
            status = error.status
            messages.error(request, error.message)
        else:
            messages.success(request, _("%(action)s: done.") % {
                "action": OrderAction(act.value).label})
            fallback = reverse("portal:order_detail", args=[order.number])
            return redirect(_safe_next(request, fallback))
        if status == 404:
            raise Http404(_("No such work order."))
    order = _load(request, number)
    context = _detail_context(request, order, failed=form, failed_action=act)
    return render(request, "portal/order_detail.html", context,
                  status=_error_status(request, status))


@staff_required
def attachment_download(request: StaffRequest, number: str, attachment_id: int) -> FileResponse:
    order = _load(request, number)
    try:
        attachment = get_attachment_for(request.user, order, attachment_id)
        handle = open_attachment(attachment)
    except (NotFound, FileNotFoundError):
        raise Http404(_("No such file.")) from None
    # ?play=1 streams a recording to the page's player instead of downloading it.
    play = request.GET.get("play") == "1" and attachment.kind == Attachment.Kind.RECORDING
    try:
        access_log.do_log_file(request.user, attachment, request, play=play)
    except Exception:
        handle.close()
        raise
    if play:
        return FileResponse(handle, as_attachment=False, content_type=attachment.content_type)
    return FileResponse(handle, as_attachment=True,
                        filename=Disclosure(request.user).attachment_name(order, attachment))

