"""The centre's survey policy per order type, the notification templates, citizens'
contact preferences, and the surveys (read only) in the admin. Pages that show a citizen
are access-logged like the citizens' own admin pages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils import timezone

from hotline.directory.admin import HotlineAdminMixin, ReadOnlyAdminMixin
from hotline.orders.admin import AccessLoggedAdmin
from hotline.orders.models import Citizen, Order
from hotline.outreach.models import (
    ContactPreference,
    NoticeTemplate,
    PreferenceChange,
    Survey,
    SurveyPolicy,
)


@admin.register(SurveyPolicy)
class SurveyPolicyAdmin(HotlineAdminMixin, admin.ModelAdmin):
    list_display = ("order_type", "methods", "sms_wait_hours")


@admin.register(NoticeTemplate)
class NoticeTemplateAdmin(HotlineAdminMixin, admin.ModelAdmin):
    list_display = ("event", "channel", "language", "is_active", "updated_at")
    list_filter = ("event", "channel", "language", "is_active")


@admin.register(ContactPreference)
class ContactPreferenceAdmin(HotlineAdminMixin, AccessLoggedAdmin):
    list_display = ("citizen", "channel", "language", "notices", "campaigns", "updated_at")
    list_filter = ("channel", "language", "notices", "campaigns")
    raw_id_fields = ("citizen",)

    def save_model(self, request: Any, obj: ContactPreference, form: Any, change: bool) -> None:
        """A change by staff is recorded like the citizen's own (who and when)."""
        fields = ("channel", "language", "notices", "campaigns")
        old = ContactPreference.objects.filter(pk=obj.pk).values(*fields).first() or {}
        super().save_model(request, obj, form, change)
        new = {f: getattr(obj, f) for f in fields}
        if old != new:
            PreferenceChange.objects.create(citizen=obj.citizen, via=PreferenceChange.Via.STAFF,
                                            actor=request.user, before=old, after=new,
                                            at=timezone.now())

    def citizen_and_order(self, obj: Any) -> tuple[Citizen | None, Order | None]:
        return obj.citizen, None


@admin.register(PreferenceChange)
class PreferenceChangeAdmin(ReadOnlyAdminMixin, AccessLoggedAdmin):
    """Who changed a citizen's preference and when (the citizen by link or code, or staff)."""

    list_display = ("citizen", "via", "at")
    list_filter = ("via",)
    raw_id_fields = ("citizen",)

    def citizen_and_order(self, obj: Any) -> tuple[Citizen | None, Order | None]:
        return obj.citizen, None


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdminMixin, AccessLoggedAdmin):
    list_display = ("order", "method", "state", "satisfaction", "resolved", "answered_by",
                    "created_at", "finished_at")
    list_filter = ("state", "method", "satisfaction", "answered_by")
    search_fields = ("order__number",)
    exclude = ("token",)  # the link is the citizen's proof: never shown back
    list_shows_citizens = False  # the list shows orders and answers, no citizen

    def citizen_and_order(self, obj: Any) -> tuple[Citizen | None, Order | None]:
        return obj.citizen, obj.order
