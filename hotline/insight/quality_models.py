"""Quality inspection (质检): scorecards with weighted and fatal items, sampling rules, and one
``Inspection`` per sampled call (the inspector's marks, the score, the agent's appeal and its
decision). The rules of scoring and of the inspection's life are in ``quality_scoring``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.insight.quality_scoring import SampleKind as PureSampleKind
from hotline.insight.quality_scoring import State as PureState


class Scorecard(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("QA scorecard")
        verbose_name_plural = _("QA scorecards")

    def __str__(self) -> str:
        return self.name


class ScorecardItem(models.Model):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="items",
                                  verbose_name=_("scorecard"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    label = models.CharField(_("item"), max_length=200)
    guidance = models.CharField(_("what earns the points"), max_length=500, blank=True)
    points = models.PositiveSmallIntegerField(_("points"), default=10)
    fatal = models.BooleanField(_("fatal item"), default=False,
                                help_text=_("Failing it sets the whole score to zero."))

    class Meta:
        ordering = ["scorecard", "position", "pk"]
        verbose_name = _("scorecard item")
        verbose_name_plural = _("scorecard items")

    def __str__(self) -> str:
        return self.label

    @property
    def key(self) -> str:
        return str(self.pk)


class SamplingRule(models.Model):
    class Kind(models.TextChoices):
        RANDOM = PureSampleKind.RANDOM.value, _("Random calls")
        LONG = PureSampleKind.LONG.value, _("Long calls")
        COMPLAINT = PureSampleKind.COMPLAINT.value, _("Complaints")
        UNSATISFIED = PureSampleKind.UNSATISFIED.value, _("Unsatisfied citizens")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    per_agent_per_week = models.PositiveSmallIntegerField(_("calls per agent per week"),
                                                          default=2)
    long_call_seconds = models.PositiveIntegerField(_("long call from (s)"), default=600)
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="rules",
                                  verbose_name=_("scorecard"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("QA sampling rule")
        verbose_name_plural = _("QA sampling rules")

    def __str__(self) -> str:
        return self.name


class Inspection(models.Model):
    class State(models.TextChoices):
        PENDING = PureState.PENDING.value, _("To inspect")
        SCORED = PureState.SCORED.value, _("Scored")
        APPEALED = PureState.APPEALED.value, _("Appealed")
        UPHELD = PureState.UPHELD.value, _("Appeal refused")
        REVISED = PureState.REVISED.value, _("Appeal accepted, scored again")

    call = models.ForeignKey("contactcentre.QueuedCall", on_delete=models.PROTECT,
                             related_name="inspections", verbose_name=_("call"))
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="inspections", verbose_name=_("agent"))
    rule = models.ForeignKey(SamplingRule, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="inspections", verbose_name=_("sampled by"))
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT,
                                  related_name="inspections", verbose_name=_("scorecard"))
    week = models.DateField(_("week (Monday)"), db_index=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices,
                             default=State.PENDING, db_index=True)
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("inspector"))
    marks = models.JSONField(_("marks"), default=dict, blank=True)
    score = models.FloatField(_("score"), null=True, blank=True)
    fatal_failed = models.BooleanField(_("fatal item failed"), default=False)
    comment = models.TextField(_("inspector's comment"), blank=True)
    scored_at = models.DateTimeField(_("scored"), null=True, blank=True)
    appeal_reason = models.TextField(_("appeal"), blank=True)
    appealed_at = models.DateTimeField(_("appealed"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   null=True, blank=True, related_name="+",
                                   verbose_name=_("appeal decided by"))
    decision = models.TextField(_("decision"), blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    created_at = models.DateTimeField(_("sampled"))

    class Meta:
        ordering = ["-week", "pk"]
        constraints = [models.UniqueConstraint(fields=["call", "scorecard"],
                                               name="inspection_once_per_call")]
        verbose_name = _("QA inspection")
        verbose_name_plural = _("QA inspections")
