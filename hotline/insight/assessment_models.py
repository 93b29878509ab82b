"""Assessment (考核) tables: the versioned rules, the per-order facts the monthly job keeps,
the stored monthly standings (what the pages and the API read) and the units' appeals.

Imported by ``hotline.insight.models`` so Django finds them in the insight app."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.directory.models import Unit
from hotline.insight.appeal_states import PENDING_OR_ACCEPTED, AppealState
from hotline.insight.scoring import Rules
from hotline.orders.models import Attachment, Order


class RankingGroup(models.TextChoices):
    DEPARTMENTS = "departments", _("Departments")
    DISTRICTS = "districts", _("Districts")
    STREETS = "streets", _("Streets")


class AssessmentRules(models.Model):
    """One version of the assessment rules, in force from ``effective_from`` (the first day of a
    month) until the next version's. A month is always scored by the version in force then, so
    a new version never changes a past month's ranking: add a version, never edit a used one."""

    effective_from = models.DateField(_("in force from (month)"), unique=True)
    definition = models.JSONField(_("definition"))
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = _("assessment rules")
        verbose_name_plural = _("assessment rules")

    def __str__(self) -> str:
        return f"{self.effective_from:%Y-%m} v{self.pk}"

    def rules(self) -> Rules:
        return Rules.from_dict(self.definition, version=str(self.pk))


class AssessmentFact(models.Model):
    """One order as it enters one unit's month: the facts the history gives (measured once by
    the monthly job) and the verdict of the month's rules. The unit page lists the orders that
    lowered a score from here, never from the raw history."""

    month = models.CharField(_("month"), max_length=7)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("holding unit"))
    rules = models.ForeignKey(AssessmentRules, on_delete=models.PROTECT, related_name="+")
    urgent = models.BooleanField(default=False)
    dispatched_at = models.DateTimeField(_("dispatched"))
    response_hours = models.FloatField(_("hours to respond"), null=True, blank=True)
    excluded = models.CharField(_("excluded"), max_length=16, blank=True)
    responded = models.BooleanField(_("responded in time"), null=True)
    resolved = models.BooleanField(_("resolved"), null=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=16, blank=True)
    satisfaction_points = models.FloatField(null=True)
    lowered = models.JSONField(_("rates lowered"), default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "order", "unit"],
                                               name="assessment_fact_unique")]
        indexes = [models.Index(fields=["month", "unit"], name="assessment_fact_month_unit")]


class AssessmentScore(models.Model):
    """A unit's standing in a month under one rules version: the counts behind the three rates,
    the weighted score, the rank in its group and the change since the month before."""

    month = models.CharField(_("month"), max_length=7)
    rules = models.ForeignKey(AssessmentRules, on_delete=models.PROTECT, related_name="scores")
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    group = models.CharField(_("ranking"), max_length=64)
    kind = models.CharField(_("assessed as"), max_length=16)
    counted = models.PositiveIntegerField(_("orders counted"))
    responded = models.PositiveIntegerField(_("responded in time"))
    answered = models.PositiveIntegerField(_("called back"))
    resolved = models.PositiveIntegerField(_("resolved"))
    rated = models.PositiveIntegerField(_("rated"))
    points = models.FloatField(_("satisfaction points"))
    excluded = models.PositiveIntegerField(_("orders excluded"))
    response_rate = models.FloatField(_("response rate"), null=True)
    resolution_rate = models.FloatField(_("resolution rate"), null=True)
    satisfaction_rate = models.FloatField(_("satisfaction rate"), null=True)
    score = models.FloatField(_("score"), null=True)
    rank = models.PositiveIntegerField(_("rank"), null=True)
    ranked_in_group = models.PositiveIntegerField(default=0)
    previous_rank = models.PositiveIntegerField(null=True)
    rank_change = models.IntegerField(null=True)
    score_change = models.FloatField(null=True)
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        ordering = ["group", "rank", "-score", "unit_id"]
        constraints = [models.UniqueConstraint(fields=["month", "rules", "unit"],
                                               name="assessment_score_unique")]
        indexes = [models.Index(fields=["month", "group"], name="assessment_score_month")]

    @property
    def ranking(self) -> str:
        """The group without its district suffix ("streets:gulou" -> "streets")."""
        return self.group.split(":", 1)[0]


class AssessmentAppeal(models.Model):
    """A unit's appeal (申诉) against an order that lowered its month; the centre decides."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    month = models.CharField(_("month"), max_length=7)
    state = models.CharField(_("state"), max_length=16, choices=[
        (AppealState.SUBMITTED.value, _("Submitted")),
        (AppealState.ACCEPTED.value, _("Accepted")),
        (AppealState.REFUSED.value, _("Refused")),
    ], default=AppealState.SUBMITTED.value)
    reason = models.TextField(_("reason"))
    attachment = models.ForeignKey(Attachment, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    submitted_at = models.DateTimeField(_("submitted"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision = models.TextField(_("reason for the decision"), blank=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("assessment appeal")
        verbose_name_plural = _("assessment appeals")
        constraints = [models.UniqueConstraint(
            fields=["order", "unit", "month"],
            condition=models.Q(state__in=sorted(s.value for s in PENDING_OR_ACCEPTED)),
            name="assessment_appeal_one_standing")]

    def __str__(self) -> str:
        return f"{self.order_id}@{self.unit_id} {self.month} {self.state}"


def state_label(state: str) -> Any:
    return dict(AssessmentAppeal._meta.get_field("state").choices or []).get(state, state)
