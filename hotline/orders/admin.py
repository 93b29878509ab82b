"""Django admin for citizens, contacts and work orders.

Orders change only through the services (``do_action``), which check the lifecycle and write
the hash-chained history; so the admin shows orders, their assignments and their history but
never edits them. History events and attachments are strictly read-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from hotline.directory.admin import HotlineAdminMixin, ReadOnlyAdminMixin, is_hotline_admin
from hotline.orders.access_log import do_log_access
from hotline.orders.models import (
    AccessKind,
    Assignment,
    Attachment,
    Citizen,
    Contact,
    Order,
    OrderEvent,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_hotline_admin(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class AccessLoggedAdmin(admin.ModelAdmin):
    """The admin shows citizens unmasked (name, number, what they said): every list page and
    every record page is an access to personal data, logged before it is rendered."""

    list_shows_citizens = True

    def citizen_and_order(self, obj: Any) -> tuple[Citizen | None, Order | None]:
        return None, None

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and self.has_view_or_change_permission(request, obj):
            citizen, order = self.citizen_and_order(obj)
            do_log_access(request.user, AccessKind.CITIZEN_VIEW,  # type: ignore[arg-type]
                          citizen=citizen, order=order, request=request,
                          detail=f"admin: {self.opts.model_name} {obj.pk}")
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request: HttpRequest,
                        extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if self.list_shows_citizens and self.has_view_or_change_permission(request):
            do_log_access(request.user, AccessKind.CITIZEN_VIEW,  # type: ignore[arg-type]
                          request=request, detail=f"admin: {self.opts.model_name} list")
        return super().changelist_view(request, extra_context)


@admin.register(Citizen)
class CitizenAdmin(HotlineAdminMixin, AccessLoggedAdmin):
    """Correcting a citizen's name, email, care tags or confidentiality is an admin's job; the
    phone number is the citizen's identity across channels, so it stays as recorded."""

    list_display = ("id", "name", "phone", "email", "tags", "confidential", "created_at")
    list_filter = ("confidential",)
    search_fields = ("name", "phone", "email")
    readonly_fields = ("phone", "created_at")

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False  # citizens are registered by intake, with their first contact

    def citizen_and_order(self, obj: Any) -> tuple[Citizen | None, Order | None]:
        return obj, None


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdminMixin, AccessLoggedAdmin):
    list_display = ("occurred_at", "channel", "direction", "citizen", "agent", "summary")
    list_filter = ("channel", "direction")
    search_fields = ("summary", "external_id", "citizen__phone", "citizen__name")
    list_select_related = ("citizen", "agent")
    date_hierarchy = "occurred_at"

    def citizen_and_order(self, obj: Any) -> tuple[Citizen | None, Order | None]:
        return obj.citizen, None


# The inlines name themselves: the models' automatic names ("order events", "attachments")
# are English in every language.
class AssignmentInline(ReadOnlyInline):
    model = Assignment
    verbose_name = _("assignment")
    verbose_name_plural = _("Assignments")
    fields = ("unit", "role", "active", "assigned_at", "signed_at", "replied_at", "reply_text")
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name = _("order event")
    verbose_name_plural = _("Order events")
    fields = ("seq", "created_at", "action", "from_state", "to_state", "actor_name", "unit",
              "note")
    readonly_fields = fields
    ordering = ("seq",)


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    verbose_name = _("attachment")
    verbose_name_plural = _("Attachments")
    fields = ("kind", "name", "content_type", "size", "created_at", "file")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, AccessLoggedAdmin):
    list_display = ("number", "title", "type", "state", "district", "category", "lead_unit",
                    "created_at", "overdue")
    list_filter = ("state", "type", "urgency", "channel", "district", "confidential",
                   "supervised", "major_event")
    search_fields = ("number", "title", "citizen__phone")
    list_select_related = ("district", "category", "lead_unit")
    date_hierarchy = "created_at"
    inlines = (AssignmentInline, EventInline, AttachmentInline)
    show_full_result_count = False  # counting millions of orders on every page is slow
    list_shows_citizens = False  # the list has no citizen column; each order's page does

    @admin.display(boolean=True, description=_("overdue"))
    def overdue(self, obj: Order) -> bool:
        return obj.is_overdue

    def citizen_and_order(self, obj: Any) -> tuple[Citizen | None, Order | None]:
        return obj.citizen, obj


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("order", "seq", "created_at", "action", "from_state", "to_state",
                    "actor_name")
    list_filter = ("action",)
    search_fields = ("order__number",)
    list_select_related = ("order",)
    show_full_result_count = False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        return {}  # not even the bulk delete action is offered


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("order", "kind", "name", "content_type", "size", "created_at")
    list_filter = ("kind",)
    search_fields = ("order__number", "name", "sha256")
    list_select_related = ("order",)
