"""Opinion polls and questionnaires (民意调查): the questions as data (``poll_spec``), and one
row per response, whichever way it came (the web page, the keypad of a call, an SMS link)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Poll(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title"), max_length=120)
    intro = models.TextField(_("introduction"), blank=True)
    questions = models.JSONField(_("questions"), default=list)
    state = models.CharField(_("state"), max_length=8, choices=State.choices,
                             default=State.DRAFT, db_index=True)
    # Inbound: anyone with the published link may answer (once per visit, limited per
    # address); empty when the poll is only sent to chosen recipients.
    public = models.BooleanField(_("published for anyone"), default=False)
    token = models.CharField(_("link token"), max_length=32, unique=True)
    district = models.ForeignKey("directory.District", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name=_("district"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("poll")
        verbose_name_plural = _("polls")

    def __str__(self) -> str:
        return self.title


class PollResponse(models.Model):
    class Channel(models.TextChoices):
        WEB = "web", _("Web page")
        IVR = "ivr", _("Phone keypad")
        SMS = "sms", _("SMS link")

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="responses",
                             verbose_name=_("poll"))
    channel = models.CharField(_("channel"), max_length=4, choices=Channel.choices)
    answers = models.JSONField(_("answers"), default=dict)
    complete = models.BooleanField(_("every question answered"), default=True)
    recipient = models.OneToOneField("outreach.Recipient", on_delete=models.SET_NULL, null=True,
                                     blank=True, related_name="poll_response",
                                     verbose_name=_("campaign recipient"))
    created_at = models.DateTimeField(_("answered"), db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("poll response")
        verbose_name_plural = _("poll responses")

    def __str__(self) -> str:
        return f"{self.poll_id}:{self.pk}"
