"""The department workbench: what the unit must sign for, what its handlers are working on, what
the centre sent back, what is replied or closed; search; signing for several at once; the
department administrator's view of each handler's load."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hotline.core.errors import ServiceError
from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.orders.assignees import assigns_others, unit_handlers
from hotline.orders.disclosure import Disclosure
from hotline.orders.lifecycle import Action
from hotline.orders.models import Order
from hotline.orders.services import do_action
from hotline.portal import workbench_queries
from hotline.portal.order_access import DEPARTMENT_ROLES, actions_by_order, is_department_user
from hotline.web.access import StaffRequest, role_required
from hotline.web.forms import PortalForm

PAGE_SIZE = 25
PREVIEW_CHARS = 120
MAX_BULK = 100  # orders signed for in one press


class SearchForm(PortalForm):
    q = forms.CharField(label=gettext_lazy("Number, text or address"), required=False,
                        max_length=workbench_queries.MAX_QUERY)


def _preview(seen: Disclosure, order: Order) -> str:
    """The citizen's text, shortened; without the citizen's name and number where the viewer
    may not know who wrote it (a 举报's reporter)."""
    text = seen.redact(order.text, [order]) if seen.hidden(order) else order.text
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


def _row(user: User, seen: Disclosure, order: Order, handlers: list[User],
         allowed: list[Action]) -> dict[str, Any]:
    actions = {a.value for a in allowed}
    choices: list[User] = []
    take = False  # a handler's "take it": the order to themselves, nobody holding it yet
    if Action.ASSIGN.value in actions:
        if assigns_others(user):
            choices = [h for h in handlers if h.pk != order.handler_id]
        elif order.handler_id is None:
            take = True
    return {"order": order, "actions": actions, "preview": _preview(seen, order),
            "title": seen.order_title(order),
            "assign_to": choices, "take": take}


@role_required(is_department_user, roles=DEPARTMENT_ROLES)
def workbench(request: StaffRequest) -> HttpResponse:
    now = timezone.now()
    search = SearchForm(request.GET)
    text = search.cleaned_data.get("q", "") if search.is_valid() else ""
    tabs = workbench_queries.workbench_tabs(request.user, now, text)
    current = next((t for t in tabs if t.key == request.GET.get("tab")), tabs[0])
    page = workbench_queries.capped_page(current, request.GET.get("page"), PAGE_SIZE)
    seen = Disclosure(request.user)
    handlers = list(unit_handlers(request.user.unit)) if assigns_others(request.user) else []
    orders = list(page)
    allowed = actions_by_order(request.user, orders)
    context = {
        # Counted by ``workbench_counts`` once the page is shown (the tabs ask for it).
        "tabs": [(t, None) for t in tabs],
        "current": current,
        "count_cap": workbench_queries.TAB_COUNT_CAP,
        "page": page,
        "now": now,
        "search": search,
        "q": text,
        "rows": [_row(request.user, seen, order, handlers, allowed[order.pk]) for order in orders],
        "bulk_sign": current.key == "to_sign",
        "is_admin": request.user.role == Role.DEPT_ADMIN,
        "next": request.get_full_path(),
    }
    if request.htmx and request.htmx.target == "workbench-tab":
        return render(request, "portal/_workbench_tab.html", context)
    return render(request, "portal/workbench.html", context)


@role_required(is_department_user, roles=DEPARTMENT_ROLES)
def workbench_counts(request: StaffRequest) -> HttpResponse:
    """The tabs with their counts (each up to the cap), for the search the page shows: asked
    for by the page once it is shown, so the page does not wait for nine counts over a
    department's orders. The same queries as the tabs' lists, so the same scope."""
    search = SearchForm(request.GET)
    text = search.cleaned_data.get("q", "") if search.is_valid() else ""
    tabs = workbench_queries.workbench_tabs(request.user, timezone.now(), text)
    current = next((t for t in tabs if t.key == request.GET.get("tab")), tabs[0])
    return render(request, "portal/_workbench_tabs.html", {
        "tabs": [(t, workbench_queries.tab_count(t)) for t in tabs],
        "current": current,
        "count_cap": workbench_queries.TAB_COUNT_CAP,
        "q": text,
        "counted": True,
    })


def _back(request: StaffRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("portal:workbench")


@require_POST
@role_required(is_department_user, roles=DEPARTMENT_ROLES)
def sign_several(request: StaffRequest) -> HttpResponse:
    """签收 for every ticked order: one service call per order, so each is checked (role, unit,
    state) and recorded on its own; those that fail are named with the reason."""
    numbers = list(dict.fromkeys(n for n in request.POST.getlist("orders") if n))
    if not numbers:
        messages.error(request, _("Tick the orders to sign for."))
        return redirect(_back(request))
    if len(numbers) > MAX_BULK:
        messages.error(request, _("Sign for at most %(n)d orders at once.") % {"n": MAX_BULK})
        return redirect(_back(request))
    signed, failed = [], []
    for number in numbers:
        try:
            do_action(request.user, number[:16], Action.SIGN)
        except ServiceError as error:
            failed.append(f"{number[:16]}: {_(error.message)}")
        else:
            signed.append(number)
    if signed:
        messages.success(request, _("Signed for %(n)d orders: %(numbers)s") % {
            "n": len(signed), "numbers": "、".join(signed)})
    if failed:
        messages.error(request, _("Not signed for: %(failures)s") % {"failures": "；".join(failed)})
    return redirect(_back(request))


def _is_department_admin(user: Any) -> bool:
    return bool(user.is_authenticated and user.role == Role.DEPT_ADMIN)


@role_required(_is_department_admin, roles={Role.DEPT_ADMIN})
def handler_load(request: StaffRequest) -> HttpResponse:
    now = timezone.now()
    return render(request, "portal/workbench_load.html", {
        "rows": workbench_queries.handler_load(request.user, now),
        "week_end": workbench_queries.end_of_week(now),
    })
