"""The centre administrators' page for merging two records of one citizen.

The list shows masked names and numbers (``hotline.core.phones.mask_phone``, ``mask_name``):
picking two records needs only enough to recognise them, and the page is a list of many
people. The merge itself is ``hotline.orders.citizen_merge.do_merge_citizens``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hotline.core.errors import ServiceError
from hotline.core.phones import mask_phone
from hotline.core.roles import Role
from hotline.orders.citizen_merge import do_merge_citizens, may_merge_citizens
from hotline.orders.citizen_search import matching_citizens
from hotline.orders.models import Citizen
from hotline.orders.scope import mask_name
from hotline.web.access import StaffRequest, role_required

PAGE_SIZE = 50


def citizen_row(citizen: Any) -> dict[str, Any]:
    email = citizen.email
    local, _at, domain = email.partition("@")
    return {
        "pk": citizen.pk, "name": mask_name(citizen.name), "phone": mask_phone(citizen.phone),
        "email": f"{local[:1]}***@{domain}" if domain else "",
        "orders": getattr(citizen, "order_count", None),
        "contacts": getattr(citizen, "contact_count", None), "created_at": citizen.created_at,
    }


@role_required(may_merge_citizens, roles=[Role.CENTRE_ADMIN])
def citizen_merge_page(request: StaffRequest) -> HttpResponse:
    """GET: search and pick two records. POST without ``confirm``: the confirmation step;
    POST with ``confirm``: the merge."""
    if request.method == "POST":
        keep = Citizen.objects.filter(pk=request.POST.get("keep") or 0).first()
        merge = Citizen.objects.filter(pk=request.POST.get("merge") or 0).first()
        if keep is None or merge is None:
            messages.error(request, _("Pick the record to keep and the record to merge into it."))
            return redirect("portal:citizen_merge")
        if not request.POST.get("confirm"):
            context = {"keep": citizen_row(keep), "merge": citizen_row(merge)}
            return render(request, "portal/citizens/merge_confirm.html", context)
        try:
            do_merge_citizens(request.user, keep, merge)
        except ServiceError as error:
            messages.error(request, _(error.message))
            return redirect("portal:citizen_merge")
        messages.success(request, _("The two citizen records are now one."))
        return redirect("portal:citizen_merge")
    query = request.GET.get("q", "")
    rows = [citizen_row(c) for c in matching_citizens(query)[:PAGE_SIZE]]
    return render(request, "portal/citizens/merge.html", {"rows": rows, "query": query})
