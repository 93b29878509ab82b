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
from hotline.insight.topic_models import Topic, TopicEpoch, TopicMember  # noqa: E402,F401


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
    hundred a day, so a year's report by unit sums ~100,000 rows, not ten million.

    Each grain is kept twice (``period``): per day, and per calendar month (``day`` is then the
    first of the month). A report over a range reads the months it covers whole and the days of
    the months it covers in part, so a year's figures sum ~12 rows per key instead of 365."""

    class Period(models.TextChoices):
        DAY = "day", _("day")
        MONTH = "month", _("month")

    grain = models.CharField(max_length=16)
    period = models.CharField(max_length=5, choices=Period.choices, default=Period.DAY)
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
                fields=["grain", "period", "day", "unit_id", "district_id", "category_id",
                        "type", "channel"],
                name="order_rollup_key"),
        ]
        # A department's or sub-centre's figures: its units' rows of the range.
        indexes = [models.Index(fields=["grain", "period", "unit_id", "day"],
                                name="order_rollup_unit_period")]


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



# --- call statistics rollups (hotline.insight.call_rollups) --------------------------------
# Sums, never averages, so any set of rows adds up (a day is its hours, the centre its queues);
# the reports divide at the end. Hours are UTC hour starts; a day is the centre's local date.
# Ids are plain integers rather than foreign keys: a rollup outlives a deleted queue or agent
# and is rewritten wholesale, so it must not hold locks on, or cascade from, the live tables.
# Kept small on purpose (a year of a big centre: ~100k rows per queue table, ~2M per agent
# table), so that a report over any range reads rollup rows, never the calls.


class CallSums(models.Model):
    """The figures of a set of calls (first queue entries only: a transfer is not a caller)."""

    offered = models.IntegerField(default=0)
    answered = models.IntegerField(default=0)
    answered_fast = models.IntegerField(default=0)  # within call_figures.FAST_ANSWER_S
    answered_in_target = models.IntegerField(default=0)  # within the queue's target
    abandoned = models.IntegerField(default=0)  # after more than SHORT_ABANDON_S
    short_abandoned = models.IntegerField(default=0)
    overflowed = models.IntegerField(default=0)
    wait_sum_s = models.FloatField(default=0.0)  # over the answered calls
    talked = models.IntegerField(default=0)  # answered calls that have ended
    talk_sum_s = models.FloatField(default=0.0)
    hold_sum_s = models.FloatField(default=0.0)  # over the talked calls
    wrapped = models.IntegerField(default=0)  # calls with wrap-up time
    wrap_sum_s = models.FloatField(default=0.0)

    class Meta:
        abstract = True


class CallHour(CallSums):
    """The calls that joined one queue in one hour (by ``queued_at``)."""

    hour = models.DateTimeField()
    queue_id = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hour", "queue_id"], name="callhour_once")]


class AgentCallDay(CallSums):
    """The calls one agent answered from one queue, by the local day they joined it."""

    day = models.DateField()
    agent_id = models.IntegerField()
    queue_id = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "agent_id", "queue_id"],
                                               name="agentcallday_once")]
        indexes = [models.Index(fields=["agent_id", "day"], name="agentcallday_agent")]


class StateHour(models.Model):
    """Seconds all agents together spent in one state in one hour (occupancy by hour)."""

    hour = models.DateTimeField()
    state = models.CharField(max_length=16)
    seconds = models.FloatField(default=0.0)
    agents = models.IntegerField(default=0)  # distinct agents with time in the state

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hour", "state"], name="statehour_once")]


class AgentStateDay(models.Model):
    """Seconds one agent spent in one state in one local day (signed-out time not kept)."""

    day = models.DateField()
    agent_id = models.IntegerField()
    state = models.CharField(max_length=16)
    seconds = models.FloatField(default=0.0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "agent_id", "state"],
                                               name="agentstateday_once")]
        indexes = [models.Index(fields=["agent_id", "day"], name="agentstateday_agent")]


class IvrNodeDay(models.Model):
    """Visits of one IVR node in one local day by how the caller left it."""

    day = models.DateField()
    node = models.CharField(max_length=64)
    outcome = models.CharField(max_length=16)
    visits = models.IntegerField(default=0)
    calls = models.IntegerField(default=0)  # distinct calls (a node visited twice counts once)
    duration_sum_s = models.FloatField(default=0.0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "node", "outcome"],
                                               name="ivrnodeday_once")]


class SmsDay(models.Model):
    day = models.DateField()
    direction = models.CharField(max_length=3)
    status = models.CharField(max_length=16)
    messages = models.IntegerField(default=0)
    parts = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "direction", "status"],
                                               name="smsday_once")]


class OutboundDay(models.Model):
    """Outbound call attempts (``outreach.CallAttempt``) of one local day by purpose and
    outcome."""

    day = models.DateField()
    purpose = models.CharField(max_length=16)
    outcome = models.CharField(max_length=10)
    attempts = models.IntegerField(default=0)
    talk_sum_s = models.FloatField(default=0.0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "purpose", "outcome"],
                                               name="outboundday_once")]


class RollupMark(models.Model):
    """How far a rollup is complete: every source row up to ``until`` is in it. Its row is
    locked (SELECT ... FOR UPDATE) for the whole of a refresh, so refreshes run one at a time."""

    name = models.CharField(max_length=32, unique=True)
    until = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
