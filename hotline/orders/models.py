"""Citizens, their contacts with the hotline, work orders (工单) and the orders' history."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Reverse
from django.utils.translation import gettext_lazy as _

from hotline.core.append_only import AppendOnly, ImmutableError  # noqa: F401 - re-exported
from hotline.core.roles import Role as StaffRole
from hotline.directory.models import Category, District, OrderType, Unit
from hotline.orders.lifecycle import Action, State


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    VOICEMAIL = "voicemail", _("Voicemail")
    WEB = "web", _("Web portal")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    CHAT = "chat", _("Web chat")
    FAX = "fax", _("Fax")
    OPEN311 = "open311", _("Open311")
    API = "api", _("Partner system")
    MAILBOX = "mailbox", _("Mayor's mailbox")
    WECHAT = "wechat", _("WeChat official account")
    LETTER = "letter", _("Letter")
    VISIT = "visit", _("Walk-in visit")


class CitizenTag(models.TextChoices):
    ELDERLY = "elderly", _("Elderly")
    DISABLED = "disabled", _("Disabled")
    VIP_CARE = "care", _("Needs special care")
    REPEAT = "repeat", _("Repeat caller")
    MALICIOUS = "malicious", _("Malicious repeat caller")


class Citizen(models.Model):
    """One person across every channel: their contacts and orders form one history."""

    name = models.CharField(_("name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, db_index=True)
    email = models.EmailField(_("email"), blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    confidential = models.BooleanField(_("keep identity confidential"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("citizen")
        verbose_name_plural = _("citizens")
        constraints = [
            models.UniqueConstraint(
                fields=["phone"], condition=~models.Q(phone=""), name="citizen_unique_phone"
            )
        ]
        # A phone's last digits are the reversed number's first ones: a plain B-tree over the
        # reversed phone answers "ends with 7950" as a range, on SQLite and PostgreSQL alike
        # (no index serves LIKE '%7950'; 1 M citizens were scanned). See ``phone_tail_q``.
        indexes = [models.Index(Reverse("phone"), name="citizen_phone_reversed")]

    def __str__(self) -> str:
        return self.name or self.phone or f"#{self.pk}"


class IdentityKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat session")
    OPEN311 = "open311", _("Open311 account")
    DEVICE = "device", _("Device")
    WECHAT = "wechat", _("WeChat openid")


class CitizenIdentity(models.Model):
    """A further key a channel knows the citizen by (a chat session, an Open311 account, a
    device, a second phone or email kept when two records were merged). Unique per kind, so
    two channels racing to register the same key end up with one citizen."""

    citizen = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, related_name="identities", verbose_name=_("citizen")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=IdentityKind.choices)
    value = models.CharField(_("value"), max_length=255)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("citizen identity")
        verbose_name_plural = _("citizen identities")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="citizen_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class CitizenMerge(models.Model):
    """The citizen's history of merges: which record was folded into ``keep``, by whom, and
    what moved (the merged record itself is gone)."""

    keep = models.ForeignKey(
        Citizen, on_delete=models.PROTECT, related_name="merges", verbose_name=_("kept citizen")
    )
    merged_id = models.PositiveBigIntegerField(_("merged citizen id"))
    merged_name = models.CharField(_("name"), max_length=64, blank=True)
    merged_phone = models.CharField(_("phone"), max_length=32, blank=True)
    merged_email = models.EmailField(_("email"), blank=True)
    orders = models.JSONField(_("work orders moved"), default=list, blank=True)
    contacts = models.PositiveIntegerField(_("contacts moved"), default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("merged by"),
    )
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("citizen merge")
        verbose_name_plural = _("citizen merges")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"#{self.merged_id} -> #{self.keep_id}"


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class OrderState(models.TextChoices):
    ACCEPTED = State.ACCEPTED.value, _("Accepted")
    DISPATCHED = State.DISPATCHED.value, _("Dispatched")
    RETURNED = State.RETURNED.value, _("Returned")
    HANDLING = State.HANDLING.value, _("In progress")
    SUSPENDED = State.SUSPENDED.value, _("Suspended")
    REPLIED = State.REPLIED.value, _("Replied")
    CALLBACK = State.CALLBACK.value, _("Awaiting call back")
    CLOSED = State.CLOSED.value, _("Closed")
    REJECTED = State.REJECTED.value, _("Not accepted")
    MERGED = State.MERGED.value, _("Merged")
    ARCHIVED = State.ARCHIVED.value, _("Archived")


class OrderAction(models.TextChoices):
    CREATE = Action.CREATE.value, _("Accept")
    ANSWER = Action.ANSWER.value, _("Answer and close")
    REJECT = Action.REJECT.value, _("Refuse")
    DISPATCH = Action.DISPATCH.value, _("Dispatch")
    TRANSFER = Action.TRANSFER.value, _("Transfer")
    SIGN = Action.SIGN.value, _("Sign for")
    RETURN = Action.RETURN.value, _("Return")
    APPROVE_RETURN = Action.APPROVE_RETURN.value, _("Approve return and re-dispatch")
    DENY_RETURN = Action.DENY_RETURN.value, _("Refuse return")
    REPLY = Action.REPLY.value, _("Reply")
    APPROVE_REPLY = Action.APPROVE_REPLY.value, _("Approve reply")
    DENY_REPLY = Action.DENY_REPLY.value, _("Send reply back")
    CALLBACK = Action.CALLBACK.value, _("Call back and close")
    REOPEN = Action.REOPEN.value, _("Reopen")
    CALLBACK_ATTEMPT = Action.CALLBACK_ATTEMPT.value, _("Call back not reached")
    ARCHIVE = Action.ARCHIVE.value, _("Archive")
    URGE = Action.URGE.value, _("Urge")
    SUPERVISE = Action.SUPERVISE.value, _("Supervise")
    INSTRUCT = Action.INSTRUCT.value, _("Leader instruction")
    REQUEST_EXTENSION = Action.REQUEST_EXTENSION.value, _("Request extension")
    APPROVE_EXTENSION = Action.APPROVE_EXTENSION.value, _("Approve extension")
    DENY_EXTENSION = Action.DENY_EXTENSION.value, _("Refuse extension")
    SUSPEND = Action.SUSPEND.value, _("Suspend")
    RESUME = Action.RESUME.value, _("Resume")
    MERGE = Action.MERGE.value, _("Merge")
    ESCALATE = Action.ESCALATE.value, _("Escalate major event")
    CONFIRM_ESCALATION = Action.CONFIRM_ESCALATION.value, _("Confirm escalation")
    CO_REPLY = Action.CO_REPLY.value, _("Co-handler reply")
    REMIND = Action.REMIND.value, _("Deadline reminder")
    MARK_OVERDUE = Action.MARK_OVERDUE.value, _("Mark overdue")
    ESCALATE_OVERDUE = Action.ESCALATE_OVERDUE.value, _("Report overdue order to leaders")
    LINK = Action.LINK.value, _("Link related order")
    UNLINK = Action.UNLINK.value, _("Remove link")
    ASSIGN = Action.ASSIGN.value, _("Assign handler")
    # Not lifecycle actions: history entries of the assessment (考核) that change no state.
    ASSESSMENT_APPEAL = "assessment_appeal", _("Assessment appeal")
    ASSESSMENT_DECISION = "assessment_decision", _("Assessment appeal decided")


class PartnerEvent(models.TextChoices):
    """History entries about a partner service provider (outreach's 96180 model) that move no
    order: they are not lifecycle actions, the order's state stays. Written through
    ``orders.partner_events.do_record_partner_event``."""

    PARTNER_ASSIGN = "partner_assign", _("Assigned to a partner")
    PARTNER_RATE = "partner_rate", _("Partner's service rated")
    PARTNER_SUSPEND = "partner_suspend", _("Partner suspended")


class Contact(models.Model):
    """One inbound or outbound interaction on any channel (来电/来信)."""

    class Direction(models.TextChoices):
        INBOUND = "in", _("Inbound")
        OUTBOUND = "out", _("Outbound")

    citizen = models.ForeignKey(
        Citizen, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts",
        verbose_name=_("citizen"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, default=Direction.INBOUND
    )
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    summary = models.TextField(_("summary"), blank=True)
    external_id = models.CharField(_("external id"), max_length=128, blank=True, db_index=True)
    # The number or address it came in on (a merged department hotline, a mailbox address):
    # the statistics count contacts by it.
    called_number = models.CharField(_("called number"), max_length=64, blank=True,
                                     db_index=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="contacts", verbose_name=_("agent"),
    )
    orders: models.ManyToManyField[Order, Any] = models.ManyToManyField(
        "Order", blank=True, related_name="contacts"
    )

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")


class Order(models.Model):
    number = models.CharField(_("acceptance number"), max_length=8, unique=True)
    type = models.CharField(_("type"), max_length=16, choices=OrderType.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    urgency = models.CharField(
        _("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL
    )
    state = models.CharField(
        _("state"), max_length=16, choices=OrderState.choices, default=OrderState.ACCEPTED
    )
    citizen = models.ForeignKey(
        Citizen, on_delete=models.PROTECT, related_name="orders", verbose_name=_("citizen")
    )
    confidential = models.BooleanField(_("confidential"), default=False)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))
    address = models.CharField(_("address"), max_length=255, blank=True)
    district = models.ForeignKey(
        District, null=True, blank=True, on_delete=models.PROTECT, related_name="orders",
        verbose_name=_("district"),
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="orders",
        verbose_name=_("category"),
    )
    lead_unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="lead_orders",
        verbose_name=_("lead unit"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="created_orders", verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed for"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    sign_due = models.DateTimeField(_("sign-for deadline"), null=True, blank=True)
    handle_due = models.DateTimeField(_("handling deadline"), null=True, blank=True)
    suspended_at = models.DateTimeField(_("suspended since"), null=True, blank=True)
    # The last 退单's time, kept with the order so the centre's returns queue sorts by it
    # without looking up each returned order's last return event (29,866 at 1 M orders).
    returned_at = models.DateTimeField(_("last returned"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("marked overdue"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated as a major event"), null=True, blank=True)
    overdue_escalated_at = models.DateTimeField(
        _("overdue reported to leaders"), null=True, blank=True
    )
    extension_pending_days = models.PositiveIntegerField(
        _("extension requested (working days)"), null=True, blank=True
    )
    answered_directly = models.BooleanField(_("answered at once"), default=False)
    major_event = models.BooleanField(_("major event"), default=False)
    supervised = models.BooleanField(_("under supervision"), default=False)
    reply_text = models.TextField(_("reply"), blank=True)
    resolved = models.BooleanField(_("resolved"), null=True, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=16, choices=Satisfaction.choices, blank=True
    )
    reopen_count = models.PositiveIntegerField(_("times reopened"), default=0)
    # 承办人: who in the lead unit works on the order (set by the "assign" action; cleared when
    # the order moves to another unit). The unit, not the person, stays answerable for it.
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="handled_orders", verbose_name=_("handler"),
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_orders",
        verbose_name=_("merged into"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        indexes = [
            models.Index(fields=["state", "created_at"], name="order_state_created"),
            models.Index(fields=["lead_unit", "state"], name="order_lead_state"),
            # The orders a unit works on (dispatched, handling, suspended: a few % of the
            # city): which of a unit's co-assignments are in progress, with what the
            # workbench's tabs test and sort by, answered from this small index instead of
            # each order's row (the in-progress tab read 40,000 rows for their deadlines).
            models.Index(fields=["id"], include=["state", "handle_due", "sign_due", "overdue_at"],
                         name="order_working_keys",
                         condition=models.Q(state__in=[State.DISPATCHED, State.HANDLING,
                                                       State.SUSPENDED])),
            # The orders a unit leads and works on, from the unit, with what the workbench's
            # tabs test and sort by (to sign, in progress, due soon, overdue): read from the
            # index alone instead of each order's row (at 1 M orders the in-progress tab
            # walked the city's 40,000 working orders to find a department's 4,900).
            models.Index(fields=["lead_unit", "state", "handle_due", "id"],
                         include=["sign_due", "overdue_at"], name="order_unit_working",
                         condition=models.Q(state__in=[State.DISPATCHED, State.HANDLING,
                                                       State.SUSPENDED])),
            # The centre's extension and escalation queues: a few orders each, found without
            # reading every handling order's row (0.1 s at 1 M orders).
            models.Index(fields=["state"], name="order_extension_pending",
                         condition=models.Q(extension_pending_days__isnull=False)),
            models.Index(fields=["state"], name="order_major_event",
                         condition=models.Q(major_event=True)),
            models.Index(fields=["district", "state"], name="order_district_state"),
            # A sub-centre's search reads its district's newest orders (migration 0016).
            models.Index(fields=["district", "id"], name="order_district_id"),
            models.Index(fields=["state", "handle_due"], name="order_state_handle_due"),
            models.Index(fields=["state", "sign_due"], name="order_state_sign_due"),
            models.Index(fields=["handler", "state"], name="order_handler_state"),
            # The big screen's "closed today" counts a day's closings as they happen.
            models.Index(fields=["closed_at"], name="order_closed_at"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_overdue(self) -> bool:
        return self.overdue_at is not None


class Assignment(models.Model):
    """A unit's part in an order: the lead (主办) or a co-handler (协办). Past assignments stay
    (inactive) so the history of who held the order is kept."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead")
        CO = "co", _("Co-handler")
        LINKAGE = "linkage", _("Linkage unit (major event)")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments")
    role = models.CharField(_("role"), max_length=8, choices=Role.choices)
    active = models.BooleanField(_("active"), default=True)
    assigned_at = models.DateTimeField(_("assigned"))
    signed_at = models.DateTimeField(_("signed for"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    reply_text = models.TextField(_("reply"), blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["unit", "active"], name="assignment_unit_active"),
            # A unit's active orders read from the index alone (PostgreSQL: index-only scans;
            # other databases ignore ``include``): the workbench's tabs and the scope's EXISTS
            # tests for a department holding 100 k orders (bench/pages.py).
            models.Index(fields=["unit", "order"], include=["role"],
                         condition=models.Q(active=True), name="assignment_unit_order_active"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "unit"], condition=models.Q(active=True),
                name="assignment_one_active_per_unit",
            )
        ]


class OrderLink(models.Model):
    """Two orders about the same matter (duplicate) or a related one (关联), both kept open.

    One row per pair, the lower id first, so a pair cannot be linked twice in either order.
    Merging (并单) is different: the merged order closes into the other (``merged_into``)."""

    class Kind(models.TextChoices):
        RELATED = "related", _("Related")
        DUPLICATE = "duplicate", _("Same matter")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="links_out")
    linked = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.RELATED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", verbose_name=_("linked by"),
    )
    created_at = models.DateTimeField(_("linked"))

    class Meta:
        verbose_name = _("order link")
        verbose_name_plural = _("order links")
        constraints = [
            models.UniqueConstraint(fields=["order", "linked"], name="order_link_unique_pair"),
            models.CheckConstraint(condition=models.Q(order__lt=models.F("linked")),
                                   name="order_link_lower_id_first"),
        ]


class OrderEvent(AppendOnly, models.Model):
    """One step of an order's history. Events are hash-chained per order (each carries the
    hash of the one before it) and never updated or deleted; the database refuses both too."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField(_("sequence"))
    action = models.CharField(_("action"), max_length=32,
                              choices=[*OrderAction.choices, *PartnerEvent.choices])
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="order_events",
    )
    actor_name = models.CharField(_("actor"), max_length=150)
    unit = models.ForeignKey(
        Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="order_events"
    )
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"))
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["order_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["order", "seq"], name="event_unique_seq"),
        ]

    changed_message = "order history events cannot be changed"
    deleted_message = "order history events cannot be deleted"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"orders/{instance.order.number}/{filename}"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        INTAKE = "intake", _("Submitted with the request")
        REPLY = "reply", _("Department reply")
        RECORDING = "recording", _("Call recording")
        OTHER = "other", _("Other")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="attachments")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.INTAKE)
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded"))


class IdempotencyKey(models.Model):
    """Remembers which order a client's retried create request already made."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")
        ]


class NumberCounter(models.Model):
    """The counter behind acceptance numbers on databases without sequences (SQLite)."""

    name = models.CharField(max_length=32, unique=True)
    value = models.BigIntegerField(default=0)


class AccessKind(models.TextChoices):
    CITIZEN_VIEW = "citizen_view", _("Citizen shown unmasked")
    CITIZEN_SEARCH = "citizen_search", _("Citizens searched")
    RECORDING_PLAY = "recording_play", _("Recording played")
    RECORDING_DOWNLOAD = "recording_download", _("Recording downloaded")
    ATTACHMENT_DOWNLOAD = "attachment_download", _("Attachment downloaded")
    EXPORT = "export", _("Data exported")
    AUDIT_LOG_VIEW = "audit_log_view", _("Access log searched")
    AUDIT_LOG_EXPORT = "audit_log_export", _("Access log exported")


class AccessLog(AppendOnly, models.Model):
    """One access to personal data (等保 level 3): who, when, what, from where.

    Append-only: the database refuses UPDATE, and DELETE of any row younger than the legal
    minimum retention (migration 0005); ``hotline.orders.access_log`` writes and purges. The
    references carry no database constraint and do nothing on delete, so the log outlives the
    order, citizen or account it names; the number and user name are kept as text for that
    reason. No phone number is stored: searching by phone goes through the citizen registry."""

    at = models.DateTimeField(_("time"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+", verbose_name=_("user"),
    )
    username = models.CharField(_("user name"), max_length=150)
    role = models.CharField(_("role"), max_length=16, choices=StaffRole.choices, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=AccessKind.choices)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+", verbose_name=_("work order"),
    )
    order_number = models.CharField(_("acceptance number"), max_length=8, blank=True, db_index=True)
    citizen = models.ForeignKey(
        Citizen, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+", verbose_name=_("citizen"),
    )
    detail = models.CharField(_("what"), max_length=255, blank=True)
    path = models.CharField(_("path"), max_length=500, blank=True)
    address = models.GenericIPAddressField(_("address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data accesses")
        indexes = [
            models.Index(fields=["user", "at"], name="access_user_at"),
            models.Index(fields=["kind", "at"], name="access_kind_at"),
            models.Index(fields=["citizen", "at"], name="access_citizen_at"),
        ]

    changed_message = "access log entries cannot be changed"
    deleted_message = "access log entries are deleted only by the retention purge"
