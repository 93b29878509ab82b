"""Knowledge-base pages. Views stay thin: they read forms, call the services and render; a
``ServiceError`` becomes a message (and its HTTP status) on the same page.

- /knowledge/            search for staff (entries, or orders in the caller's scope); also an
                         htmx partial (the results only) to sit beside the order form
- /knowledge/suggest/     entries for the text an agent is typing (an htmx fragment)
- /knowledge/mine/       the department's entries in every state, expired ones flagged
- /knowledge/review/     the centre's review queue
- /knowledge/public/     the citizens' search: published, public, valid entries, no login
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline.core.errors import ServiceError
from hotline.knowledge import workflow
from hotline.knowledge.excel import export_entries, import_entries
from hotline.knowledge.feedback import (
    FEEDBACK_ROLES,
    do_record_not_helpful,
    feedback_for,
    may_give_feedback,
)
from hotline.knowledge.models import Action, Entry, State, readable_entries
from hotline.knowledge.search import search_entries, suggest_entries
from hotline.knowledge.services import (
    authored_unit_ids,
    available_actions,
    do_create_entry,
    do_edit_entry,
    do_entry_action,
    entries_owned_by,
    is_reviewer,
    may,
    review_queue,
)
from hotline.knowledge.workflow import EntryAction
from hotline.orders.access_log import do_log_access
from hotline.orders.models import AccessKind
from hotline.orders.search import search_orders
from hotline.portal.knowledge_forms import EntryForm, ImportForm, SearchForm
from hotline.triage.reference_cases import reference_cases
from hotline.web.access import public_page, role_required, staff_required


def is_author(user: Any) -> bool:
    return authored_unit_ids(user) != []


def _search_context(request: HttpRequest, *, public_only: bool) -> dict[str, Any]:
    form = SearchForm(request.GET or None)
    q = kind = ""
    if form.is_valid():
        q, kind = form.cleaned_data["q"], form.cleaned_data["kind"]
    target = request.GET.get("in", "entries")
    context: dict[str, Any] = {"form": form, "q": q, "target": target, "hits": [],
                               "order_hits": []}
    if q.strip():
        if target == "orders" and not public_only:
            context["order_hits"] = search_orders(request.user, q, limit=30)
        else:
            user = None if public_only else request.user
            context["hits"] = search_entries(user, q, limit=30, kind=kind,
                                             public_only=public_only)
    return context


@staff_required
def search(request: HttpRequest) -> HttpResponse:
    context = _search_context(request, public_only=False)
    if getattr(request, "htmx", False):
        return render(request, "knowledge/_results.html", context)
    return render(request, "knowledge/search.html", context)


@staff_required
def suggest(request: HttpRequest) -> HttpResponse:
    """Entries for the text an agent is typing (GET ``text``): an htmx fragment to place beside
    the order form, e.g. ``hx-get=... hx-trigger="keyup changed delay:500ms" hx-include``."""
    text = request.GET.get("text", "")[:2000]
    hits = suggest_entries(request.user, text, limit=5) if text.strip() else []
    cases = reference_cases(request.user, text) if text.strip() else []  # type: ignore[arg-type]
    return render(request, "knowledge/_suggestions.html", {
        "hits": hits, "cases": cases, "may_feedback": may_give_feedback(request.user),
        # What the "not what I need" buttons post: the text the suggestions were for.
        "feedback_vals": json.dumps({"text": text}, ensure_ascii=False),
    })


@require_POST
@role_required(may_give_feedback, roles=FEEDBACK_ROLES)
def not_helpful(request: HttpRequest, entry_id: int) -> HttpResponse:
    """不是我要的: the agent marks a suggestion that did not answer what was typed (``text``);
    answers with the fragment that replaces the button."""
    try:
        do_record_not_helpful(request.user, entry_id, request.POST.get("text", ""))  # type: ignore[arg-type]
    except ServiceError as error:
        return render(request, "knowledge/_feedback.html", {"error": error.message},
                      status=error.status)
    return render(request, "knowledge/_feedback.html", {}, status=201)


@public_page
def public_search(request: HttpRequest) -> HttpResponse:
    context = _search_context(request, public_only=True)
    if getattr(request, "htmx", False):
        return render(request, "knowledge/_results.html", {**context, "public": True})
    return render(request, "knowledge/public_search.html", {**context, "public": True})


@public_page
def public_entry(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = readable_entries(public_only=True).select_related("published", "owner") \
        .filter(pk=entry_id).first()
    if entry is None:
        raise Http404
    return render(request, "knowledge/public_entry.html",
                  {"entry": entry, "version": entry.published, "public": True})


def _may_manage(user: Any, entry: Entry) -> bool:
    return is_reviewer(user) or may(user, EntryAction.EDIT, entry)


@staff_required
def entry_detail(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = Entry.objects.select_related("owner", "published", "updated_by").filter(pk=entry_id).first()
    if entry is None:
        raise Http404
    manage = _may_manage(request.user, entry)
    readable = readable_entries().filter(pk=entry.pk).exists()
    if not (readable or manage):
        raise Http404
    feedback_count, feedback = feedback_for(request.user, entry)
    return render(request, "knowledge/entry.html", {
        "feedback_count": feedback_count, "feedback": feedback,
        "entry": entry, "version": entry.published if readable or manage else None,
        "manage": manage, "actions": available_actions(request.user, entry),
        "may_edit": may(request.user, EntryAction.EDIT, entry) and entry.state == State.DRAFT,
        "events": entry.events.select_related("actor").all() if manage else [],
        "versions": entry.versions.all() if manage else [],
        "categories": entry.categories.all(), "expired": entry.is_expired,
    })


@role_required(is_author, roles=workflow.AUTHOR_ROLES)
def entry_new(request: HttpRequest) -> HttpResponse:
    form = EntryForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            entry = do_create_entry(request.user, form.entry_data())  # type: ignore[arg-type]
        except ServiceError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Draft saved. Submit it for review when it is ready."))
            return redirect("knowledge:entry", entry.pk)
    status = 422 if form.errors else 200
    return render(request, "knowledge/entry_form.html", {"form": form, "entry": None}, status=status)


@role_required(is_author, roles=workflow.AUTHOR_ROLES)
def entry_edit(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = Entry.objects.filter(pk=entry_id).first()
    if entry is None or not may(request.user, EntryAction.EDIT, entry):
        raise Http404
    if entry.state != State.DRAFT:
        messages.error(request, _("Only drafts can be edited; start a revision first."))
        return redirect("knowledge:entry", entry.pk)
    form = EntryForm(request.POST or None, user=request.user, initial=EntryForm.initial_for(entry))
    if request.method == "POST" and form.is_valid():
        try:
            do_edit_entry(request.user, entry.pk, form.entry_data())  # type: ignore[arg-type]
        except ServiceError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("knowledge:entry", entry.pk)
    status = 422 if form.errors else 200
    return render(request, "knowledge/entry_form.html", {"form": form, "entry": entry},
                  status=status)


@require_POST
@staff_required
def entry_action(request: HttpRequest, entry_id: int, action: str) -> HttpResponse:
    try:
        entry = do_entry_action(request.user, entry_id, action,  # type: ignore[arg-type]
                                note=request.POST.get("note", ""))
    except ServiceError as error:
        messages.error(request, error.message)
        if error.status == 404:
            raise Http404 from None
        if error.status == 403:
            raise PermissionDenied from None
        return redirect("knowledge:entry", entry_id)
    messages.success(request, _("%(action)s: done.") % {
        "action": dict(Action.choices).get(action, action)})
    if action in ("publish", "reject") and request.POST.get("next") == "review":
        return redirect("knowledge:review")
    return redirect("knowledge:entry", entry.pk)


@role_required(is_author, roles=workflow.AUTHOR_ROLES)
def mine(request: HttpRequest) -> HttpResponse:
    entries = entries_owned_by(request.user)
    state = request.GET.get("state", "")
    if state == "expired":
        entries = entries.filter(published__valid_until__lt=timezone.localdate())
    elif state in State.values:
        entries = entries.filter(state=state)
    page = Paginator(entries.order_by("-updated_at"), 50).get_page(request.GET.get("page"))
    return render(request, "knowledge/mine.html", {
        "page": page, "state": state, "states": State.choices, "today": timezone.localdate(),
    })


@role_required(is_reviewer, roles=workflow.REVIEWER_ROLES)
def review(request: HttpRequest) -> HttpResponse:
    return render(request, "knowledge/review.html", {"entries": review_queue()})


@role_required(lambda u: is_author(u) or is_reviewer(u),
               roles=workflow.AUTHOR_ROLES | workflow.REVIEWER_ROLES)
def export(request: HttpRequest) -> HttpResponse:
    entries = Entry.objects.all() if is_reviewer(request.user) else entries_owned_by(request.user)
    do_log_access(request.user, AccessKind.EXPORT, request=request,  # type: ignore[arg-type]
                  detail=f"knowledge entries: {entries.count()}")
    response = HttpResponse(
        export_entries(entries.order_by("pk")),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="knowledge.xlsx"'
    return response


@role_required(is_author, roles=workflow.AUTHOR_ROLES)
def import_view(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    status = 200
    if request.method == "POST" and form.is_valid():
        report = import_entries(request.user, form.cleaned_data["file"])  # type: ignore[arg-type]
        if report.refused:
            status = 422  # the file as a whole was not read (not a workbook, over a limit)
    elif request.method == "POST":
        status = 422
    return render(request, "knowledge/import.html", {"form": form, "report": report},
                  status=status)
