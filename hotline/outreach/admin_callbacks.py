"""The admin of call-back work: the centre's rules (one row) and the tasks, read-only (tasks
change only through the desk and the services, so their history stays true)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from hotline.outreach.models_callbacks import CallbackRules, CallbackTask, MissedCall


@admin.register(CallbackRules)
class CallbackRulesAdmin(admin.ModelAdmin):
    list_display = ("visit_hours", "max_tries", "retry_minutes", "unreachable_rule",
                    "missed_within_minutes", "missed_min_wait_s", "after_hours_voicemail",
                    "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not CallbackRules.objects.exists()  # one row: the services read pk 1

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: CallbackRules, form: Any,
                   change: bool) -> None:
        obj.pk = 1
        super().save_model(request, obj, form, change)


class MissedCallInline(admin.TabularInline):
    model = MissedCall
    extra = 0
    can_delete = False
    fields = ("source", "source_ref", "missed_at")  # no number: the desk shows it masked
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CallbackTask)
class CallbackTaskAdmin(admin.ModelAdmin):
    list_display = ("pk", "kind", "state", "result", "order", "due_at", "tries", "agent",
                    "created_at")
    list_filter = ("kind", "state", "result")
    search_fields = ("order__number",)
    inlines = [MissedCallInline]
    # The citizen's number and person are left out: the admin is not where citizens are
    # looked up (that is logged on the order and citizen pages).
    exclude = ("phone", "citizen")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
