"""Satisfaction surveys and notifications: the centre's survey policy per order type, one
``Survey`` per asking of a citizen, the notification templates the centre edits, and each
citizen's channel, language and consent (``ContactPreference``)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hotline.directory.models import OrderType
from hotline.outreach import notice_defaults, survey_steps

__all__ = ["ContactPreference", "NoticeTemplate", "PreferenceChange", "Survey", "SurveyPolicy"]


def _check_methods(value: str) -> None:
    try:
        survey_steps.parse_methods(value)
    except survey_steps.BadMethods as exc:
        raise ValidationError(str(exc)) from None


class SurveyPolicy(models.Model):
    """How the centre asks about the answer of an order of one type: the ways in order, the
    next one taken when the citizen cannot be reached the one before. The row with no order
    type is the default for every type without its own row."""

    order_type = models.CharField(_("order type"), max_length=16, choices=OrderType.choices,
                                  blank=True, unique=True,
                                  help_text=_("Empty: every order type without its own row."))
    methods = models.CharField(
        _("ways of asking"), max_length=64, default="ivr,sms", validators=[_check_methods],
        help_text=_("In order, separated by commas: ivr (automated call), sms (reply with a "
                    "digit or open the link), portal (the link alone), agent (an agent calls "
                    "back; last only)."))
    sms_wait_hours = models.PositiveSmallIntegerField(
        _("hours to wait for an SMS or link answer"), default=48)

    class Meta:
        verbose_name = _("survey policy")
        verbose_name_plural = _("survey policies")

    def __str__(self) -> str:
        return f"{self.get_order_type_display() or _('default')}: {self.methods}"


class Survey(models.Model):
    """One asking of a citizen whether their order's answer resolved the matter and whether
    they are satisfied. It goes through the policy's ways one after the other (``tried``);
    the answer is recorded on the order through the lifecycle (``answer_*``) and here."""

    class State(models.TextChoices):
        ASKING = "asking", _("Asking")  # a call is queued or an SMS/link waits for an answer
        ANSWERED = "answered", _("Answered")
        AGENT = "agent", _("Handed to an agent")  # the policy's next way is a person
        UNANSWERED = "unanswered", _("No answer")  # every way was tried
        CANCELLED = "cancelled", _("Cancelled")  # the order was rated or handled elsewhere

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="surveys",
                              verbose_name=_("order"))
    citizen = models.ForeignKey("orders.Citizen", on_delete=models.PROTECT, related_name="+",
                                verbose_name=_("citizen"))
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    methods = models.CharField(_("ways of asking"), max_length=64)
    tried = models.JSONField(_("ways tried"), default=list, blank=True)
    method = models.CharField(_("way now"), max_length=8, choices=[
        (m.value, m.value) for m in survey_steps.Method], blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices,
                             default=State.ASKING, db_index=True)
    call = models.ForeignKey("outreach.OutboundCall", on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+", verbose_name=_("outbound call"))
    token = models.CharField(max_length=32, unique=True)  # the survey page's link
    waits_until = models.DateTimeField(_("waits for an answer until"), null=True, blank=True)
    resolved = models.BooleanField(_("resolved"), null=True, blank=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=16, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    recording = models.CharField(_("recorded comment"), max_length=255, blank=True)
    answered_by = models.CharField(_("answered by"), max_length=8, blank=True)
    created_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        constraints = [
            # One asking at a time per order: a second start returns the first.
            models.UniqueConstraint(fields=["order"], condition=Q(state="asking"),
                                    name="outreach_one_survey_asking_per_order"),
        ]
        indexes = [models.Index(fields=["state", "waits_until"])]

    def __str__(self) -> str:
        return f"survey:{self.pk}"


class NoticeTemplate(models.Model):
    """The text of one notification (event, channel, language), edited by the centre. Fields
    in braces are filled in: {number} {unit} {reply} {link} {hotline}."""

    event = models.CharField(_("event"), max_length=16, choices=[
        (e.value, e.value) for e in notice_defaults.Event])
    channel = models.CharField(_("channel"), max_length=8, choices=[
        ("sms", _("SMS")), ("email", _("Email"))])
    language = models.CharField(_("language"), max_length=8, choices=[
        ("zh-hans", "简体中文"), ("en", "English")])
    subject = models.CharField(_("subject"), max_length=200, blank=True,
                               help_text=_("Email only."))
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("send this notification"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["event", "channel", "language"]
        verbose_name = _("notification template")
        verbose_name_plural = _("notification templates")
        constraints = [models.UniqueConstraint(fields=["event", "channel", "language"],
                                               name="outreach_one_template_per_event")]

    def clean(self) -> None:
        problems = (notice_defaults.template_problems(self.subject)
                    + notice_defaults.template_problems(self.body))
        if problems:
            raise ValidationError("; ".join(problems))

    def __str__(self) -> str:
        return f"{self.event} / {self.channel} / {self.language}"


class ContactPreference(models.Model):
    """How a citizen wants to hear from the hotline: which channel, in which language, and
    what they agreed to. No row: the defaults (their own channel, Chinese, notices yes,
    campaigns yes until they say no: SPEC 5 asks for opt-out). Changed by the citizen
    themselves on the preference page (``preferences.do_change_preference``, each change one
    ``PreferenceChange``). The TD opt-out of SMS and the do-not-call list apply on top of this.
    Normally one row per citizen; after a merge of two records, both, read together."""

    class Channel(models.TextChoices):
        AUTO = "auto", _("The channel they came by")
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")
        NONE = "none", _("No notifications")

    # A foreign key, not one-to-one: merging two records of one person moves every row to
    # the kept citizen (orders.citizen_merge), and ``consent.preference`` combines them.
    citizen = models.ForeignKey("orders.Citizen", on_delete=models.CASCADE,
                                related_name="contact_preferences", verbose_name=_("citizen"))
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices,
                               default=Channel.AUTO)
    language = models.CharField(_("language"), max_length=8, default="zh-hans", choices=[
        ("zh-hans", "简体中文"), ("en", "English")])
    notices = models.BooleanField(_("notices about their own requests"), default=True)
    campaigns = models.BooleanField(_("agrees to campaigns and polls"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contact preference")
        verbose_name_plural = _("contact preferences")

    def __str__(self) -> str:
        return str(self.citizen)


class PreferenceChange(models.Model):
    """One change of a citizen's preference, by whom (the citizen through the link in a mail,
    after an SMS code, by an SMS reply; or staff) and when: what it was and what it became."""

    class Via(models.TextChoices):
        EMAIL_LINK = "email_link", _("The citizen, by the link in a mail")
        PHONE_CODE = "phone_code", _("The citizen, after an SMS code")
        ONE_CLICK = "one_click", _("The citizen's mail program (one-click unsubscribe)")
        STAFF = "staff", _("Staff")

    citizen = models.ForeignKey("orders.Citizen", on_delete=models.CASCADE,
                                related_name="preference_changes", verbose_name=_("citizen"))
    via = models.CharField(_("changed by"), max_length=12, choices=Via.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("staff member"))
    before = models.JSONField(_("before"), default=dict)
    after = models.JSONField(_("after"), default=dict)
    at = models.DateTimeField(_("changed"), db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("preference change")
        verbose_name_plural = _("preference changes")

    def __str__(self) -> str:
        return f"{self.citizen_id} {self.at:%Y-%m-%d %H:%M}"
