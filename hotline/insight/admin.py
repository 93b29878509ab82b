"""The assessment rules in the Django admin: the centre administrator adds a version for a coming
month; a version that has scored a month is read-only (a past month keeps its rules)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from hotline.directory.admin import HotlineAdminMixin
from hotline.insight.assessment_models import AssessmentRules, AssessmentScore
from hotline.insight.quality_models import SamplingRule, Scorecard, ScorecardItem
from hotline.insight.scoring import Rules, RulesError


class RulesForm(forms.ModelForm):
    class Meta:
        model = AssessmentRules
        fields = ("effective_from", "definition", "note")

    def clean_effective_from(self) -> Any:
        day = self.cleaned_data["effective_from"]
        if day is not None and day.day != 1:
            raise forms.ValidationError("Rules come into force on the first day of a month.")
        return day

    def clean_definition(self) -> Any:
        data = self.cleaned_data["definition"]
        try:
            Rules.from_dict(data)
        except RulesError as error:
            raise forms.ValidationError(str(error)) from None
        return data


@admin.register(AssessmentRules)
class AssessmentRulesAdmin(HotlineAdminMixin, admin.ModelAdmin):
    form = RulesForm
    list_display = ("effective_from", "note", "created_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and AssessmentScore.objects.filter(rules=obj).exists():
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class ScorecardItemInline(admin.TabularInline):
    model = ScorecardItem
    extra = 1


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active")
    inlines = [ScorecardItemInline]


@admin.register(SamplingRule)
class SamplingRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "per_agent_per_week", "scorecard", "is_active")
    list_filter = ("kind", "is_active")
