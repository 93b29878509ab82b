"""The centre admin edits the assignment letter's template here (with the hotline's admin
permissions: centre administrators only)."""

from __future__ import annotations

from django.contrib import admin

from hotline.directory.admin import HotlineAdminMixin
from hotline.portal.models import LetterTemplate


@admin.register(LetterTemplate)
class LetterTemplateAdmin(HotlineAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "active", "updated_at")
    list_filter = ("active",)
    allow_delete = True
