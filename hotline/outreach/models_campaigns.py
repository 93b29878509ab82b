"""Campaigns (主动服务): one notice, or one poll, sent to a chosen group of citizens by voice,
SMS, email or fax at a pace, with one row per recipient and its result. A voice recipient's
call is an ``OutboundCall`` (purpose "campaign" or "poll", ref "campaign:<id>:<recipient
id>"); a fax recipient's fax an ``OutboundFax`` (contactcentre's queue the gateways claim)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.outreach import campaign_rules


class Campaign(models.Model):
    class State(models.TextChoices):
        DRAFT = campaign_rules.State.DRAFT.value, _("Draft")
        SCHEDULED = campaign_rules.State.SCHEDULED.value, _("Scheduled")
        RUNNING = campaign_rules.State.RUNNING.value, _("Running")
        PAUSED = campaign_rules.State.PAUSED.value, _("Paused")
        FINISHED = campaign_rules.State.FINISHED.value, _("Finished")
        CANCELLED = campaign_rules.State.CANCELLED.value, _("Cancelled")

    class Topic(models.TextChoices):
        POLICY = "policy", _("Policy notice (政策通知)")
        OUTAGE = "outage", _("Water or power outage notice (停水停电通知)")
        POLL = "poll", _("Opinion poll (民意调查)")
        OTHER = "other", _("Other notice")

    class Channel(models.TextChoices):
        VOICE = "voice", _("Call, synthesized voice")
        RECORDING = "recording", _("Call, recorded voice")
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")
        FAX = "fax", _("Fax")

    name = models.CharField(_("name"), max_length=120)
    topic = models.CharField(_("kind"), max_length=8, choices=Topic.choices, default=Topic.POLICY)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices,
                             default=State.DRAFT, db_index=True)
    message = models.TextField(_("message"), blank=True)
    subject = models.CharField(_("email subject"), max_length=200, blank=True)
    recording = models.CharField(_("recorded notice"), max_length=255, blank=True)
    poll = models.ForeignKey("outreach.Poll", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="campaigns", verbose_name=_("poll"))
    per_minute = models.PositiveIntegerField(_("calls per minute"), default=10)
    concurrent = models.PositiveIntegerField(_("concurrent calls"), default=5)
    max_attempts = models.PositiveSmallIntegerField(_("attempts per recipient"), default=2)
    starts_at = models.DateTimeField(_("start"), null=True, blank=True)
    ends_at = models.DateTimeField(_("stop"), null=True, blank=True)
    daily_start = models.TimeField(_("daily from"), default="09:00")
    daily_end = models.TimeField(_("daily until"), default="20:00")
    selection = models.JSONField(_("recipients chosen by"), default=dict, blank=True)
    district = models.ForeignKey("directory.District", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name=_("district"))
    unit = models.ForeignKey("directory.Unit", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("unit"))
    pace_anchor = models.DateTimeField(_("pace counted from"), null=True, blank=True)
    pace_slots = models.PositiveIntegerField(_("pace slots used"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return self.name

    @property
    def is_voice(self) -> bool:
        return self.channel in (self.Channel.VOICE, self.Channel.RECORDING)

    @property
    def is_fax(self) -> bool:
        return self.channel == self.Channel.FAX


class Recipient(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        QUEUED = "queued", _("In progress")
        ANSWERED = "answered", _("Answered")
        BUSY = "busy", _("Busy")
        NO_ANSWER = "no_answer", _("No answer")
        REJECTED = "rejected", _("Rejected")
        FAILED = "failed", _("Failed")
        BLOCKED = "blocked", _("Blocked (do-not-call or opted out)")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Not reached before the stop time")

    class Source(models.TextChoices):
        DISTRICT = "district", _("District")
        STREET = "street", _("Street")
        TAG = "tag", _("Citizen tag")
        CATEGORY = "category", _("Past callers of a category")
        UPLOAD = "upload", _("Uploaded list")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients",
                                 verbose_name=_("campaign"))
    address = models.CharField(_("phone or email"), max_length=254)
    name = models.CharField(_("name"), max_length=64, blank=True)
    citizen = models.ForeignKey("orders.Citizen", on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="+", verbose_name=_("citizen"))
    source = models.CharField(_("chosen as"), max_length=10, choices=Source.choices)
    # Chosen through a 举报 or a confidential order or citizen: shown to the centre only.
    confidential = models.BooleanField(_("confidential"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING, db_index=True)
    call = models.ForeignKey("outreach.OutboundCall", on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+", verbose_name=_("call"))
    # A fax campaign's recipient is one ``contactcentre.OutboundFax`` (the gateways' fax queue).
    fax = models.ForeignKey("contactcentre.OutboundFax", on_delete=models.SET_NULL, null=True,
                            blank=True, related_name="+", verbose_name=_("fax"))
    token = models.CharField(_("poll link token"), max_length=32, blank=True, db_index=True)
    released_at = models.DateTimeField(_("released"), null=True, blank=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    detail = models.CharField(_("detail"), max_length=255, blank=True)
    result = models.JSONField(_("keys pressed"), default=dict, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["campaign", "address"],
                                               name="campaign_recipient_once")]
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.pk}"
