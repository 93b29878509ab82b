from django.contrib import admin

from hotline.insight.quality_models import SamplingRule, Scorecard, ScorecardItem


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
