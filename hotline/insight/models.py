"""Each order's text features, computed once and kept, so a hot-issue run over tens of
thousands of orders reads a few hundred bytes per order instead of segmenting its text again
(segmenting costs ~0.3 ms an order: 9 s for 30,000 orders; reading the features ~50 ms)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.core.roles import Role as StaffRole
from hotline.orders.models import Order

# Bump when the features change (tokeniser, hashing, text length): stale rows are recomputed.
FEATURES_VERSION = 2  # 2: text words without word pairs


class OrderTerms(models.Model):
    order = models.OneToOneField(Order, on_delete=models.CASCADE, primary_key=True,
                                 related_name="terms")
    version = models.PositiveSmallIntegerField(default=FEATURES_VERSION)
    # Normalised words of the title, a tab, then those of the start of the text.
    words = models.TextField(_("words"))
    # clustering.encode(): uint32 hashed term ids (see hotline/insight/clustering.py).
    features = models.BinaryField(_("features"))

    class Meta:
        verbose_name = _("order text features")
        verbose_name_plural = _("order text features")


class HotIssueSnapshot(models.Model):
    """A computed hot-issue report, kept a few minutes so that the leaders and the centre
    opening the same view do not each wait for the clustering (seconds for a month of a big
    city). ``key`` says whose view it is: scope, window and filters."""

    key = models.CharField(max_length=255, unique=True)
    computed_at = models.DateTimeField(db_index=True)
    report = models.BinaryField()
from hotline.insight.assessment_models import (  # noqa: E402,F401 - Django finds them here
    AssessmentAppeal,
    AssessmentFact,
    AssessmentRules,
    AssessmentScore,
)
from hotline.insight.brief_models import WeeklyBrief  # noqa: E402,F401
from hotline.insight.quality_models import Inspection, SamplingRule, Scorecard, ScorecardItem  # noqa: E402,F401


class OrderFact(models.Model):
    """What one order contributes to the statistics, as last counted: its dimensions and one
    0/1 (or a count) per measure (``hotline.insight.order_measures``). The rollup keeps the sum
    of these rows per day and dimensions; keeping each order's last contribution lets an
    incremental run take the old one out and put the new one in, so re-counting an order any
    number of times changes nothing (idempotent). Ids of units, districts and categories are
    plain integers with 0 for "none", so they can be part of a unique key."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, primary_key=True,
                                 related_name="fact")
    day = models.DateField(db_index=True)  # the day the order was accepted, centre's time zone
    unit_id = models.IntegerField(default=0)  # the lead unit (主办)
    district_id = models.IntegerField(default=0)
    category_id = models.IntegerField(default=0)
    type = models.CharField(max_length=16)
    channel = models.CharField(max_length=16)
    received = models.IntegerField(default=0)
    direct = models.IntegerField(default=0)
    dispatched = models.IntegerField(default=0)
    signed = models.IntegerField(default=0)
    signed_on_time = models.IntegerField(default=0)
    finished = models.IntegerField(default=0)
    finished_on_time = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    called_back = models.IntegerField(default=0)
    returned = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    extensions = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("order statistics fact")
        verbose_name_plural = _("order statistics facts")
        indexes = [models.Index(fields=["day", "unit_id"], name="orderfact_day_unit")]


class OrderDailyRollup(models.Model):
    """The order measures summed per day and grain: every order report reads these rows
    instead of the orders and their history. A grain (``order_measures.GRAINS``) keeps some of
    the dimensions (unit, district, category, type, channel) and sets the others to 0 or "":
    the full grain has about one row per order and day, the grain of units and districts a few
    hundred a day, so a year's report by unit sums ~100,000 rows, not ten million."""

    grain = models.CharField(max_length=16)
    day = models.DateField()
    unit_id = models.IntegerField(default=0)
    district_id = models.IntegerField(default=0)
    category_id = models.IntegerField(default=0)
    type = models.CharField(max_length=16)
    channel = models.CharField(max_length=16)
    received = models.IntegerField(default=0)
    direct = models.IntegerField(default=0)
    dispatched = models.IntegerField(default=0)
    signed = models.IntegerField(default=0)
    signed_on_time = models.IntegerField(default=0)
    finished = models.IntegerField(default=0)
    finished_on_time = models.IntegerField(default=0)
    closed = models.IntegerField(default=0)
    called_back = models.IntegerField(default=0)
    returned = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    extensions = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("daily order rollup")
        verbose_name_plural = _("daily order rollups")
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "day", "unit_id", "district_id", "category_id", "type",
                        "channel"],
                name="order_rollup_unique_key"),
        ]
        # A department's or sub-centre's figures: its units' rows of the range.
        indexes = [models.Index(fields=["grain", "unit_id", "day"], name="order_rollup_unit_day")]


class RollupWatermark(models.Model):
    """How far a rollup has read its source (the highest event id it will not read again).
    Its row is locked for the whole of a run, so two runs never interleave."""

    name = models.CharField(max_length=32, primary_key=True)
    last_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(null=True, blank=True)


class ReportSchedule(models.TextChoices):
    NONE = "", _("Not mailed")
    DAILY = "daily", _("Every day")
    WEEKLY = "weekly", _("Every Monday")
    MONTHLY = "monthly", _("On the first of every month")


class CustomReport(models.Model):
    """A report someone put together from the order measures: one grouping, the measures and
    rates to show, filters and how many days back it looks. Shared with a role, everyone of
    that role may run it (each in their own scope); scheduled, it is mailed as a workbook to
    its owner and to the role's users, each computed in the recipient's scope."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="custom_reports", verbose_name=_("owner"))
    name = models.CharField(_("name"), max_length=80)
    group_by = models.CharField(_("group by"), max_length=16)
    columns = models.JSONField(_("measures"), default=list)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    days = models.PositiveIntegerField(_("days back"), default=30)
    shared_role = models.CharField(_("shared with role"), max_length=16, blank=True,
                                   choices=StaffRole.choices)
    schedule = models.CharField(_("mailed"), max_length=8, blank=True,
                                choices=ReportSchedule.choices, default=ReportSchedule.NONE)
    last_sent_at = models.DateTimeField(_("last mailed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("custom report")
        verbose_name_plural = _("custom reports")

    def __str__(self) -> str:
        return self.name
