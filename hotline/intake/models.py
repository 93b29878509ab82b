"""The record of every message that reached the hotline on a channel, kept as it came."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hotline.orders.models import Channel, Contact, Order


def raw_path(instance: ReceivedMessage, filename: str) -> str:
    # A generated name: nothing the sender chose (or who the sender is) reaches the disk.
    stamp = instance.received_at
    return f"inbound/{stamp:%Y/%m}/{uuid.uuid4().hex}{filename}"


class ReceivedMessage(models.Model):
    class Outcome(models.TextChoices):
        CREATED = "created", _("New order")
        ATTACHED = "attached", _("Added to an order")
        CONTACT = "contact", _("Contact only")
        REFUSED = "refused", _("Refused")

    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    message_id = models.CharField(_("message id"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("received"), db_index=True)
    sender = models.CharField(_("sender"), max_length=255, blank=True)
    called_number = models.CharField(_("sent to"), max_length=255, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT,
                                related_name="received_messages", verbose_name=_("contact"))
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="received_messages", verbose_name=_("order"))
    raw = models.FileField(_("payload"), upload_to=raw_path, max_length=255, blank=True)
    raw_size = models.PositiveIntegerField(_("payload size"), default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    meta = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("received message")
        verbose_name_plural = _("received messages")
        constraints = [
            # A retried delivery is recorded once; messages without an id are never merged.
            models.UniqueConstraint(fields=["channel", "message_id"], condition=~Q(message_id=""),
                                    name="intake_message_once_per_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.message_id or self.pk}"


class OutboundMail(models.Model):
    """A mail the hotline sent a citizen: its Message-ID threads the answer back to the order
    (In-Reply-To), and a bounce that names it is recorded here."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")

    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="outbound_mails", verbose_name=_("order"))
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="outbound_mails", verbose_name=_("contact"))
    message_id = models.CharField(_("message id"), max_length=255, unique=True)
    to = models.CharField(_("to"), max_length=255)
    subject = models.CharField(_("subject"), max_length=255)
    purpose = models.CharField(_("purpose"), max_length=32)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    error = models.CharField(_("error"), max_length=255, blank=True)
    sent_at = models.DateTimeField(_("sent"))

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("outbound mail")
        verbose_name_plural = _("outbound mails")


class SmsMessage(models.Model):
    """Every SMS in and out, for the contact's history and the statistics."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("Inbound")
        OUTBOUND = "out", _("Outbound")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        SENT = "sent", _("Sent")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")
        REFUSED = "refused", _("Not sent")

    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    phone = models.CharField(_("phone"), max_length=32, db_index=True)
    text = models.TextField(_("text"))
    purpose = models.CharField(_("purpose"), max_length=32, blank=True)
    provider = models.CharField(_("provider"), max_length=16)
    provider_id = models.CharField(_("provider message id"), max_length=128, blank=True,
                                   db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    error = models.CharField(_("error"), max_length=255, blank=True)
    parts = models.PositiveSmallIntegerField(_("parts"), default=1)
    created_at = models.DateTimeField(_("time"), db_index=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="sms_messages", verbose_name=_("order"))
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="sms_messages", verbose_name=_("contact"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("SMS")
        verbose_name_plural = _("SMS messages")


class SmsOptOut(models.Model):
    """A phone whose owner replied TD (退订): no more notifications to it."""

    phone = models.CharField(_("phone"), max_length=32, unique=True)
    at = models.DateTimeField(_("time"))
    text = models.CharField(_("their message"), max_length=160, blank=True)

    class Meta:
        verbose_name = _("SMS opt-out")
        verbose_name_plural = _("SMS opt-outs")


class Open311Key(models.Model):
    """An Open311 client's API key (``manage.py issue_open311_key NAME``): only its SHA-256 is
    kept, so the database never holds a usable key."""

    name = models.CharField(_("client"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("issued"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")

    def __str__(self) -> str:
        return self.name


class CitizenNotice(models.Model):
    """That the citizen was told of an event of their order (accepted, answered, closed), on
    which channel, and how it went. One per event: a rerun of the job never tells twice."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Not sent")
        FAILED = "failed", _("Failed")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="citizen_notices",
                              verbose_name=_("order"))
    event = models.OneToOneField("orders.OrderEvent", on_delete=models.PROTECT,
                                 related_name="citizen_notice", verbose_name=_("event"))
    kind = models.CharField(_("event"), max_length=16)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["-at"]
        verbose_name = _("citizen notice")
        verbose_name_plural = _("citizen notices")


class PolledMailbox(models.Model):
    """How far the IMAP poller (``hotline.intake.email.imap``) has read one folder: every UID
    up to ``last_uid`` of the folder's ``uidvalidity`` is taken. Kept in the database, not in
    the mailbox's flags, so a poll that dies between taking a mail and marking it read never
    takes it again, and a mail someone opened in a mail client first is still taken."""

    account = models.CharField(_("mailbox"), max_length=255, unique=True)  # user@host:port/folder
    uidvalidity = models.PositiveBigIntegerField(_("UID validity"), default=0)
    last_uid = models.PositiveBigIntegerField(_("last UID taken"), default=0)
    # Until the first poll of a folder (or of a new UIDVALIDITY) has caught up, only unread
    # mail is taken: what was read before the hotline polled it is old mail, not requests.
    unread_only = models.BooleanField(_("unread mail only"), default=True)
    # A mail whose delivery raised (a fault of ours) is tried at a few polls, then skipped.
    failing_uid = models.PositiveBigIntegerField(_("failing UID"), null=True, blank=True)
    failures = models.PositiveSmallIntegerField(_("failures"), default=0)
    leased_until = models.DateTimeField(null=True, blank=True)  # one poll at a time
    polled_at = models.DateTimeField(_("last poll"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("polled mailbox")
        verbose_name_plural = _("polled mailboxes")

    def __str__(self) -> str:
        return self.account


class MailboxLetter(models.Model):
    """A mayor's-mailbox letter (市长信箱) as it may be published: the writer's title and text
    with their numbers, email addresses and name masked (stored masked, so the public search
    never reads what the page does not show), the writer's consent, and the centre's
    withdrawal. Whether it is shown also depends on its order (``intake.mailbox_public``): an
    accepted reply, neither confidential nor a 举报."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="mailbox_letter",
                                 verbose_name=_("order"))
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))
    publish_consent = models.BooleanField(_("writer agrees to publication"), default=False)
    received_at = models.DateTimeField(_("received"), db_index=True)
    acknowledge_by = models.DateTimeField(_("acknowledge by"))
    withdrawn_at = models.DateTimeField(_("withdrawn from publication"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("withdrawn by"))
    withdrawal_reason = models.CharField(_("reason for withdrawal"), max_length=255, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("mailbox letter")
        verbose_name_plural = _("mailbox letters")

    def __str__(self) -> str:
        return self.title
