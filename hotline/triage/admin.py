"""Classifier versions in the admin: read-only (they are made by training, not by hand); the
figures per category and the retrain / activate buttons are on /triage/models/."""

from __future__ import annotations

from django.contrib import admin

from hotline.directory.admin import ReadOnlyAdminMixin
from hotline.triage.models import ClassifierVersion


@admin.register(ClassifierVersion)
class ClassifierVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("version", "status", "created_at", "n_train", "n_labels", "macro_f1",
                    "accuracy", "top3_accuracy", "ms_per_message")
    list_filter = ("status",)
    exclude = ("per_label",)
