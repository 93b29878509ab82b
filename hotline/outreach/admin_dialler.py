"""The trunk registrations the gateways report (``TrunkStatus``), read-only in the admin."""

from __future__ import annotations

from django.contrib import admin

from hotline.directory.admin import HotlineAdminMixin
from hotline.outreach.models_dialler import TrunkStatus


@admin.register(TrunkStatus)
class TrunkStatusAdmin(HotlineAdminMixin, admin.ModelAdmin):
    read_only = True
    list_display = ("gateway", "trunk_name", "state", "sip_status", "reason", "registered_at",
                    "expires_at", "active_calls", "max_concurrent", "updated_at")
    list_filter = ("state",)
