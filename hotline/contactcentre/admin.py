"""Django admin for the desk: SIP extensions (the digest password is set here and stored only as
HA1), skills and agents' skill levels, queues with their required skills and overflow rules.
Agents' states, the state log and queued calls change only through the services: read-only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.contactcentre import services
from hotline.contactcentre.models import (
    AgentSkill,
    OutboundFax,
    OverflowRule,
    Queue,
    QueuedCall,
    QueueSkill,
    ServiceNumber,
    SipExtension,
    Skill,
    StateChange,
)
from hotline.directory.admin import HotlineAdminMixin, ReadOnlyAdminMixin
from hotline.orders.models import Contact


class SipExtensionForm(forms.ModelForm):
    password = forms.CharField(
        label=_("SIP password"), required=False, strip=False, min_length=8,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current password. Only its digest hash is stored."),
    )

    class Meta:
        model = SipExtension
        fields = ("number", "agent", "phone", "realm", "enabled")


@admin.register(SipExtension)
class SipExtensionAdmin(HotlineAdminMixin, admin.ModelAdmin):
    form = SipExtensionForm
    list_display = ("number", "agent", "phone", "realm", "enabled", "has_password")
    list_filter = ("enabled", "phone")
    search_fields = ("number", "agent__username", "agent__display_name")

    @admin.display(boolean=True, description=_("password set"))
    def has_password(self, obj: SipExtension) -> bool:
        return obj.has_password

    def save_model(self, request: HttpRequest, obj: SipExtension, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        password = form.cleaned_data.get("password")
        if password:
            services.do_set_extension_password(obj, password)


@admin.register(Skill)
class SkillAdmin(HotlineAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "kind")
    list_filter = ("kind",)
    search_fields = ("code", "name")


@admin.register(AgentSkill)
class AgentSkillAdmin(HotlineAdminMixin, admin.ModelAdmin):
    allow_delete = True
    list_display = ("agent", "skill", "level")
    list_filter = ("skill",)
    search_fields = ("agent__username", "agent__display_name")


class QueueSkillInline(HotlineAdminMixin, admin.TabularInline):
    allow_delete = True
    model = QueueSkill
    extra = 1


class OverflowRuleInline(HotlineAdminMixin, admin.TabularInline):
    allow_delete = True
    model = OverflowRule
    fk_name = "queue"
    extra = 1


@admin.register(Queue)
class QueueAdmin(HotlineAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "sticky_wait_s", "wrap_up_s", "ring_timeout_s", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")
    inlines = [QueueSkillInline, OverflowRuleInline]


class ServiceNumberForm(forms.ModelForm):
    class Meta:
        model = ServiceNumber
        fields = ("number", "name", "former_unit", "flow_path", "greeting", "queue", "active")

    def clean_flow_path(self) -> str:
        # The gateway validates the flow itself (and falls back to the centre's flow with an
        # error in its log); a path that names no file is caught here, where it is typed.
        path = str(self.cleaned_data.get("flow_path") or "").strip()
        if path and not Path(path).is_file():
            raise forms.ValidationError(_("No such file on the server."))
        return path


@admin.register(ServiceNumber)
class ServiceNumberAdmin(HotlineAdminMixin, admin.ModelAdmin):
    form = ServiceNumberForm
    list_display = ("number", "name", "former_unit", "queue", "active", "calls_30_days")
    list_filter = ("active", "queue")
    search_fields = ("number", "name")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceNumber]:
        # One query for the list, not one count per number.
        since = timezone.now() - dt.timedelta(days=30)
        recent = (Contact.objects.filter(called_number=OuterRef("number"), occurred_at__gte=since)
                  .order_by().values("called_number").annotate(n=Count("id")).values("n"))
        return super().get_queryset(request).annotate(
            recent_contacts=Coalesce(Subquery(recent), 0))

    @admin.display(description=_("contacts in the last 30 days"),
                   ordering="recent_contacts")
    def calls_30_days(self, line: ServiceNumber) -> int:
        return int(getattr(line, "recent_contacts", 0))


@admin.register(OutboundFax)
class OutboundFaxAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "order", "number", "state", "attempts", "pages", "error")
    list_filter = ("state",)
    date_hierarchy = "created_at"


@admin.register(QueuedCall)
class QueuedCallAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("queued_at", "queue", "caller", "priority", "outcome", "wait_s", "agent")
    list_filter = ("outcome", "queue")
    date_hierarchy = "queued_at"


@admin.register(StateChange)
class StateChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "agent", "action", "from_state", "to_state", "reason", "actor")
    list_filter = ("to_state", "reason")
    date_hierarchy = "at"
