"""Outbound calls and the rules around them: the SIP trunk gateways dial through, the
do-not-call list, and one row per call to make (``OutboundCall``) with one row per attempt
(``CallAttempt``). The other outreach models (call-back tasks, surveys, campaigns, polls,
appointments, partners) live in their own modules and point at ``OutboundCall``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.outreach.policy import Outcome as PureOutcome


class Trunk(models.Model):
    """The carrier's SIP trunk: where gateways register and send outbound calls. Edited in
    the admin; gateways read the active one when they start and again every minute."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    registrar_host = models.CharField(_("registrar host"), max_length=255)
    registrar_port = models.PositiveIntegerField(_("registrar port"), default=5060)
    domain = models.CharField(_("SIP domain"), max_length=255, blank=True,
                              help_text=_("Defaults to the registrar host."))
    outbound_proxy = models.CharField(_("outbound proxy"), max_length=255, blank=True,
                                      help_text=_("host:port; empty: send to the registrar."))
    username = models.CharField(_("user name"), max_length=64, blank=True)
    auth_username = models.CharField(_("authentication user name"), max_length=64, blank=True)
    password = models.CharField(_("password"), max_length=128, blank=True)
    register = models.BooleanField(_("register"), default=True,
                                   help_text=_("Keep a registration with the registrar."))
    register_expires = models.PositiveIntegerField(_("registration lifetime (s)"), default=300)
    caller_id = models.CharField(_("caller id shown"), max_length=32, default="12345")
    max_concurrent = models.PositiveIntegerField(_("concurrent outbound calls"), default=30)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("SIP trunk")
        verbose_name_plural = _("SIP trunks")

    def __str__(self) -> str:
        return self.name


class DoNotCall(models.Model):
    """A number the hotline never calls (the citizen asked, or the number is not a person's).
    Honoured when a call is queued and again when a gateway claims it."""

    phone = models.CharField(_("phone"), max_length=32, unique=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+",
                                 verbose_name=_("added by"))
    added_at = models.DateTimeField(_("added"))

    class Meta:
        verbose_name = _("do-not-call number")
        verbose_name_plural = _("do-not-call list")

    def __str__(self) -> str:
        return self.phone


class Purpose(models.TextChoices):
    CALLBACK = "callback", _("Call back (回访)")
    SURVEY = "survey", _("Satisfaction survey")
    MISSED = "missed", _("Missed-call call back")
    CAMPAIGN = "campaign", _("Campaign notice")
    POLL = "poll", _("Opinion poll")
    REMINDER = "reminder", _("Appointment reminder")
    TEST = "test", _("Test call")


class Outcome(models.TextChoices):
    ANSWERED = PureOutcome.ANSWERED.value, _("Answered")
    BUSY = PureOutcome.BUSY.value, _("Busy")
    NO_ANSWER = PureOutcome.NO_ANSWER.value, _("No answer")
    REJECTED = PureOutcome.REJECTED.value, _("Rejected")
    FAILED = PureOutcome.FAILED.value, _("Failed")


class OutboundCall(models.Model):
    """One call the hotline is to make to a citizen, with its attempts. Any gateway with a
    trunk claims a due row with one conditional UPDATE (queued -> dialling), dials, and on
    answer either bridges the citizen to ``agent_extension`` (preview dialling: the agent's
    phone rings first) or runs ``flow`` (an IVR flow as data, the same format as the inbound
    flows) and stores what the citizen keyed in ``result``. ``ref`` names the owner of the
    call ("callback-task:12", "campaign:3:7") so the owner finds its calls."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        DIALLING = "dialling", _("Dialling")  # claimed by a gateway; an attempt is under way
        DONE = "done", _("Done")  # no further attempt: see outcome
        CANCELLED = "cancelled", _("Cancelled")
        BLOCKED = "blocked", _("Blocked")  # refused by the rules (do-not-call): see error

    class Mode(models.TextChoices):
        AGENT = "agent", _("Bridge to an agent")
        IVR = "ivr", _("Automated (IVR)")

    number = models.CharField(_("number"), max_length=32, db_index=True)
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices,
                             default=State.QUEUED, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices,
                               blank=True)
    ref = models.CharField(_("owner"), max_length=64, blank=True, db_index=True)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="outbound_calls", verbose_name=_("order"))
    citizen = models.ForeignKey("orders.Citizen", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+", verbose_name=_("citizen"))
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("agent"))
    agent_extension = models.CharField(_("agent's extension"), max_length=32, blank=True)
    flow = models.JSONField(_("IVR flow"), null=True, blank=True)
    variables = models.JSONField(_("flow variables"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("attempt limit"), default=3)
    next_try_at = models.DateTimeField(_("next try"), db_index=True)
    not_after = models.DateTimeField(_("give up after"), null=True, blank=True)
    gateway = models.CharField(_("gateway"), max_length=64, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    contact = models.ForeignKey("orders.Contact", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+", verbose_name=_("contact"))
    error = models.CharField(_("error"), max_length=255, blank=True)
    handled = models.BooleanField(_("owner told"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("requested by"))
    created_at = models.DateTimeField(_("requested"))

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "next_try_at"])]
        verbose_name = _("outbound call")
        verbose_name_plural = _("outbound calls")

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.number}"


class CallAttempt(models.Model):
    """One dial of an outbound call: when, the SIP answer, the outcome, how long. The
    statistics of outbound calls read these rows."""

    call = models.ForeignKey(OutboundCall, on_delete=models.CASCADE, related_name="attempt_rows",
                             verbose_name=_("outbound call"))
    number = models.CharField(_("number"), max_length=32, db_index=True)
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    gateway = models.CharField(_("gateway"), max_length=64, blank=True)
    started_at = models.DateTimeField(_("started"), db_index=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"))
    sip_status = models.PositiveSmallIntegerField(_("SIP status"), default=0)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    talk_seconds = models.PositiveIntegerField(_("talk (s)"), default=0)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("call attempt")
        verbose_name_plural = _("call attempts")

from hotline.outreach import models_callbacks  # noqa: E402,F401  (call-back tasks and their rules)
from hotline.outreach.models_appointments import *  # noqa: E402,F403  (item 8: appointments)
from hotline.outreach.models_campaigns import Campaign, Recipient  # noqa: E402,F401
from hotline.outreach.models_dialler import TrunkStatus  # noqa: E402,F401
from hotline.outreach.models_partners import *  # noqa: E402,F403  (item 9: partners)
from hotline.outreach.models_polls import Poll, PollResponse  # noqa: E402,F401
from hotline.outreach.models_surveys import *  # noqa: E402,F403  surveys, notices, preferences
