"""The audit administrator's pages (三员分立): search the personal-data access log and export
what was found. Nobody else reaches them, superusers included (``duties.may_read_audit_log``).
Searching and exporting are accesses to personal data themselves, so both are logged."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hotline.core.errors import ServiceError
from hotline.core.roles import Role
from hotline.directory.duties import may_read_audit_log
from hotline.orders import access_log
from hotline.orders.access_log import AccessFilters
from hotline.orders.models import AccessKind
from hotline.web.access import StaffRequest, role_required
from hotline.web.forms import ANY, PortalForm

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AccessLogFilterForm(PortalForm):
    user = forms.CharField(label=_("User name"), required=False, max_length=150)
    role = forms.ChoiceField(label=_("Role"), required=False)
    kind = forms.ChoiceField(label=_("Kind of access"), required=False)
    order_number = forms.CharField(label=_("Acceptance number"), required=False, max_length=8)
    citizen_phone = forms.CharField(label=_("Citizen's phone"), required=False, max_length=32)
    address = forms.CharField(label=_("Address (IP)"), required=False, max_length=45)
    date_from = forms.DateField(label=_("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role = self.fields["role"]
        kind = self.fields["kind"]
        assert isinstance(role, forms.ChoiceField) and isinstance(kind, forms.ChoiceField)
        role.choices = ANY + list(Role.choices)
        kind.choices = ANY + list(AccessKind.choices)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> AccessFilters:
        data = self.cleaned_data
        return AccessFilters(
            user=data.get("user") or "", role=data.get("role") or "", kind=data.get("kind") or "",
            order_number=data.get("order_number") or "",
            citizen_phone=data.get("citizen_phone") or "", address=data.get("address") or "",
            date_from=data.get("date_from"), date_to=data.get("date_to"),
        )


def _search(request: StaffRequest) -> tuple[AccessLogFilterForm, Any, int]:
    """The form, the matching entries (None when the form is invalid) and the status."""
    form = AccessLogFilterForm(request.GET)
    if not form.is_valid():
        return form, None, 422
    try:
        return form, access_log.search_access_log(request.user, form.filters()), 200
    except ServiceError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, gettext(error.message))  # the catalogue has the service's text
        return form, None, error.status


@role_required(may_read_audit_log, roles=[Role.AUDIT_ADMIN])
def access_log_page(request: StaffRequest) -> HttpResponse:
    form, entries, status = _search(request)
    page = None
    if entries is not None:
        page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
        # Read first, so the search does not find itself; logged before the page is rendered.
        page.object_list = list(page.object_list)
        access_log.do_log_access(request.user, AccessKind.AUDIT_LOG_VIEW, request=request,
                                 detail=form.filters().describe())
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "portal/audit/access_log.html", context, status=status)


@role_required(may_read_audit_log, roles=[Role.AUDIT_ADMIN])
def access_log_export(request: StaffRequest) -> HttpResponse:
    form, entries, status = _search(request)
    if entries is None:
        context: dict[str, Any] = {"form": form, "page": None, "query": ""}
        return render(request, "portal/audit/access_log.html", context, status=status)
    filters = form.filters()
    # Built first (so the export does not contain itself), logged before it is sent; the count
    # says how much left the system.
    content, count = access_log.export_access_log(entries)
    access_log.do_log_access(request.user, AccessKind.AUDIT_LOG_EXPORT, request=request,
                             detail=f"{count} rows; {filters.describe()}")
    response = HttpResponse(content, content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="access-log-{stamp}.xlsx"'
    return response
