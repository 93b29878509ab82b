"""Call-back work: the centre's call backs after an accepted reply (回访) and the call backs of
missed calls (未接来电回拨), as tasks agents take from the desk, with the rules the centre
administrator sets (``CallbackRules``, one row) and the missed calls behind each task."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class UnreachableRule(models.TextChoices):
    SMS_SURVEY = "sms_survey", _("Ask for the rating by SMS")
    CLOSE = "close", _("Close as unreachable (联系不上)")


class CallbackRules(models.Model):
    """The centre's rules for call-back work: one row (pk 1), edited in the admin; the
    defaults apply until it is saved."""

    visit_hours = models.PositiveSmallIntegerField(
        _("call back within (working hours)"), default=8,
        help_text=_("From the centre accepting the reply to the call-back deadline."))
    max_tries = models.PositiveSmallIntegerField(
        _("unreachable after (tries)"), default=3,
        help_text=_("Calls that did not reach the citizen before the rule below applies."))
    retry_minutes = models.PositiveIntegerField(
        _("next try after (minutes)"), default=60,
        help_text=_("A task not reached leaves the due list for this long."))
    unreachable_rule = models.CharField(
        _("when unreachable"), max_length=16, choices=UnreachableRule.choices,
        default=UnreachableRule.SMS_SURVEY)
    missed_within_minutes = models.PositiveIntegerField(
        _("call missed calls back within (minutes)"), default=30)
    missed_min_wait_s = models.PositiveIntegerField(
        _("abandoned calls count after waiting (seconds)"), default=10,
        help_text=_("Callers who hung up sooner are not called back."))
    missed_lookback_hours = models.PositiveSmallIntegerField(
        _("missed calls older than this are not called back (hours)"), default=24)
    after_hours_voicemail = models.BooleanField(
        _("call back voicemails left outside working hours"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("call-back rules")
        verbose_name_plural = _("call-back rules")

    def __str__(self) -> str:
        return str(_("call-back rules"))


class TaskKind(models.TextChoices):
    VISIT = "visit", _("Return visit (回访)")
    MISSED = "missed", _("Missed call (未接来电)")


class TaskState(models.TextChoices):
    OPEN = "open", _("To call")
    CALLING = "calling", _("Calling")  # an agent holds it: their call is queued or under way
    DONE = "done", _("Done")


class TaskResult(models.TextChoices):
    CLOSED = "closed", _("Closed by the call back")
    REOPENED = "reopened", _("Reopened to the department (重办)")
    UNREACHABLE = "unreachable", _("Closed as unreachable (联系不上)")
    SMS_SURVEY = "sms_survey", _("Rating asked by SMS")
    REACHED = "reached", _("Citizen reached")
    CALLED_IN = "called_in", _("The citizen called in again")
    OBSOLETE = "obsolete", _("No longer needed")  # the order left 待回访 another way


OPEN_STATES = (TaskState.OPEN, TaskState.CALLING)


class CallbackTask(models.Model):
    """One citizen to call back. A return visit belongs to an order in state 待回访 (one per
    round: ``cycle`` is the order's reopen count when it was made); a missed-call task belongs
    to a number (one open task per number gathers every missed call of that number)."""

    kind = models.CharField(_("kind"), max_length=8, choices=TaskKind.choices)
    state = models.CharField(_("state"), max_length=8, choices=TaskState.choices,
                             default=TaskState.OPEN, db_index=True)
    result = models.CharField(_("result"), max_length=12, choices=TaskResult.choices,
                              blank=True)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="callback_tasks", verbose_name=_("work order"))
    cycle = models.PositiveIntegerField(_("round"), default=0)
    phone = models.CharField(_("phone"), max_length=32, db_index=True)
    citizen = models.ForeignKey("orders.Citizen", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+", verbose_name=_("citizen"))
    due_at = models.DateTimeField(_("call back by"), db_index=True)
    next_try_at = models.DateTimeField(_("not before"), null=True, blank=True)
    tries = models.PositiveSmallIntegerField(_("tries not reached"), default=0)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("agent"))
    call = models.ForeignKey("outreach.OutboundCall", on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+", verbose_name=_("current call"))
    claimed_at = models.DateTimeField(_("taken"), null=True, blank=True)
    words = models.TextField(_("citizen's words"), blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+", verbose_name=_("done by"))

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("call-back task")
        verbose_name_plural = _("call-back tasks")
        constraints = [
            models.UniqueConstraint(fields=["order", "cycle"], condition=Q(kind="visit"),
                                    name="callbacktask_one_visit_per_round"),
            models.UniqueConstraint(fields=["phone"],
                                    condition=Q(kind="missed", state__in=["open", "calling"]),
                                    name="callbacktask_one_open_missed_per_phone"),
        ]
        indexes = [models.Index(fields=["state", "due_at"], name="callbacktask_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"

    @property
    def ref(self) -> str:
        """The owner name its outbound calls carry (``OutboundCall.ref``)."""
        return f"callback-task:{self.pk}"


class MissedSource(models.TextChoices):
    ABANDONED = "abandoned", _("Hung up in the queue")
    OVERFLOW = "overflow", _("Call-back request (queue overflow)")
    VOICEMAIL = "voicemail", _("Voicemail outside working hours")


class MissedCall(models.Model):
    """One missed call taken into a task; ``source_ref`` (unique) makes the sweep idempotent."""

    task = models.ForeignKey(CallbackTask, on_delete=models.CASCADE, related_name="missed_calls",
                             verbose_name=_("call-back task"))
    source = models.CharField(_("source"), max_length=10, choices=MissedSource.choices)
    source_ref = models.CharField(_("source"), max_length=64, unique=True)
    phone = models.CharField(_("phone"), max_length=32)
    missed_at = models.DateTimeField(_("missed at"))

    class Meta:
        ordering = ["missed_at", "pk"]
        verbose_name = _("missed call")
        verbose_name_plural = _("missed calls")
