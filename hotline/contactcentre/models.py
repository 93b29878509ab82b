"""Agents at work: SIP extensions, skills, queues and their rules, each agent's current state,
the append-only log of state changes and the record of every queued call.

The state machine itself is data in ``hotline.contactcentre.acd.states``; these models store where each
agent is in it. Every write goes through ``hotline.contactcentre.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.contactcentre.acd.routing import OverflowAction as PureOverflowAction
from hotline.contactcentre.acd.states import AgentAction, AgentState, BusyReason
from hotline.contactcentre.ivr_outcome import VisitOutcome
from hotline.core.append_only import AppendOnly, ImmutableError  # noqa: F401 - re-exported


class State(models.TextChoices):
    SIGNED_OUT = AgentState.SIGNED_OUT.value, _("Signed out")
    SIGNED_IN = AgentState.SIGNED_IN.value, _("Signed in")
    IDLE = AgentState.IDLE.value, _("Ready for calls")
    BUSY = AgentState.BUSY.value, _("Not ready")
    RINGING = AgentState.RINGING.value, _("Ringing")
    TALKING = AgentState.TALKING.value, _("On a call")
    WRAP_UP = AgentState.WRAP_UP.value, _("Wrap-up")


class Action(models.TextChoices):
    SIGN_IN = AgentAction.SIGN_IN.value, _("Sign in")
    SIGN_OUT = AgentAction.SIGN_OUT.value, _("Sign out")
    READY = AgentAction.READY.value, _("Ready for calls")
    NOT_READY = AgentAction.NOT_READY.value, _("Not ready")
    OFFER = AgentAction.OFFER.value, _("Call offered")
    ANSWER = AgentAction.ANSWER.value, _("Call answered")
    NO_ANSWER = AgentAction.NO_ANSWER.value, _("Not answered")
    CALLER_GONE = AgentAction.CALLER_GONE.value, _("Caller hung up while ringing")
    HANG_UP = AgentAction.HANG_UP.value, _("Call ended")
    WRAP_UP_END = AgentAction.WRAP_UP_END.value, _("Wrap-up time over")


class Reason(models.TextChoices):
    REST = BusyReason.REST.value, _("Short break")
    MEAL = BusyReason.MEAL.value, _("Meal")
    MEETING = BusyReason.MEETING.value, _("Meeting")
    TRAINING = BusyReason.TRAINING.value, _("Training")
    OUTBOUND = BusyReason.OUTBOUND.value, _("Outbound calls")
    PAPERWORK = BusyReason.PAPERWORK.value, _("Order paperwork")
    OTHER = BusyReason.OTHER.value, _("Other")
    NO_ANSWER = BusyReason.NO_ANSWER.value, _("Missed call")


class SkillKind(models.TextChoices):
    LANGUAGE = "language", _("Language")
    BUSINESS = "business", _("Business line")


class Skill(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=SkillKind.choices)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self) -> str:
        return self.name


LEVEL = [MinValueValidator(1), MaxValueValidator(10)]


class AgentSkill(models.Model):
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="skills", verbose_name=_("agent"))
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="agents",
                              verbose_name=_("skill"))
    level = models.PositiveSmallIntegerField(_("level"), default=5, validators=LEVEL)

    class Meta:
        verbose_name = _("agent skill")
        verbose_name_plural = _("agent skills")
        constraints = [models.UniqueConstraint(fields=["agent", "skill"], name="agent_skill_once")]


class PhoneKind(models.TextChoices):
    """Where the ACD rings an agent: the desk's own softphone (WebRTC) or a SIP phone."""

    SIP = "sip", _("SIP phone")
    SOFTPHONE = "softphone", _("Softphone in the desk")


class SipExtension(models.Model):
    """An agent's phone number at the platform. The digest password is stored only as HA1
    (the hash of user:realm:password), which is all a registrar needs to check a response.
    ``phone`` says which phone answers to the number: a SIP phone registered with the
    password, or the desk's softphone registered by the agent's 签入."""

    number = models.CharField(
        _("extension"), max_length=16, unique=True,
        validators=[RegexValidator(r"^[0-9]{3,16}$", _("3 to 16 digits"))],
    )
    agent = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="sip_extension",
                                 verbose_name=_("agent"))
    realm = models.CharField(_("realm"), max_length=64, default="hotline")
    ha1_md5 = models.CharField(_("HA1 (MD5)"), max_length=32, blank=True, editable=False)
    ha1_sha256 = models.CharField(_("HA1 (SHA-256)"), max_length=64, blank=True, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    phone = models.CharField(_("phone"), max_length=16, choices=PhoneKind.choices,
                             default=PhoneKind.SIP)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("SIP extension")
        verbose_name_plural = _("SIP extensions")

    def __str__(self) -> str:
        return self.number

    @property
    def has_password(self) -> bool:
        return bool(self.ha1_md5)


class SoftphoneState(models.TextChoices):
    OFFERED = "offered", _("Offered by the desk")
    CLAIMED = "claimed", _("Taken by a gateway")
    ANSWERED = "answered", _("Answered by the gateway")
    CLOSED = "closed", _("Closed")
    FAILED = "failed", _("Failed")


class SoftphoneSession(models.Model):
    """One registration of a desk's softphone: the browser's SDP offer (complete, ICE
    gathered), the gateway that took it and that gateway's answer. The signalling rides
    on the database like the desk's commands, so the desk needs no route to the gateway
    and several gateways share the offers (the first to claim one serves it)."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="softphone_sessions", verbose_name=_("agent"))
    extension = models.CharField(_("extension"), max_length=16)
    state = models.CharField(_("state"), max_length=16, choices=SoftphoneState.choices,
                             default=SoftphoneState.OFFERED)
    offer_sdp = models.TextField(_("offer (SDP)"))
    answer_sdp = models.TextField(_("answer (SDP)"), blank=True)
    gateway = models.CharField(_("gateway"), max_length=64, blank=True, db_index=True)
    reason = models.CharField(_("reason"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("softphone session")
        verbose_name_plural = _("softphone sessions")
        indexes = [models.Index(fields=["state", "gateway"], name="softphone_state_gateway")]

    def __str__(self) -> str:
        return f"{self.extension} ({self.state})"


class Queue(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    sticky_wait_s = models.PositiveIntegerField(
        _("sticky wait (seconds)"), default=30,
        help_text=_("How long a caller with an open order waits for the agent who created it."),
    )
    wrap_up_s = models.PositiveIntegerField(_("wrap-up time (seconds)"), default=30)
    ring_timeout_s = models.PositiveIntegerField(_("ring timeout (seconds)"), default=20)
    aht_s = models.PositiveIntegerField(
        _("average handling time (seconds)"), default=180,
        help_text=_("Used for the expected-wait announcement."),
    )
    service_level_s = models.PositiveIntegerField(_("service level target (seconds)"), default=20)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("call queue")
        verbose_name_plural = _("call queues")

    def __str__(self) -> str:
        return self.name


class ServiceNumber(models.Model):
    """A number the centre answers (seed 001: one city folded 56 departments' 96 hotlines into
    12345). Each called number or trunk DID keeps its own IVR flow, greeting and queue, so a
    former department hotline goes on working; its calls carry the number (``Contact.called_number``)
    and the statistics count them by it."""

    number = models.CharField(
        _("number"), max_length=32, unique=True,
        validators=[RegexValidator(r"^\+?[0-9]{3,31}$", _("Digits only, as dialled."))],
        help_text=_("The called number or DID as it arrives (the SIP request's user part)."))
    name = models.CharField(_("name"), max_length=64,
                            help_text=_("What the line was, e.g. the former water hotline."))
    former_unit = models.ForeignKey(
        "directory.Unit", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="service_numbers", verbose_name=_("former owner"),
        help_text=_("The department whose hotline this number was, if any."))
    flow_path = models.CharField(
        _("IVR flow file"), max_length=255, blank=True,
        help_text=_("A flow file of its own (YAML or JSON); empty: the centre's flow."))
    greeting = models.TextField(
        _("greeting"), blank=True, max_length=500,
        help_text=_("Spoken before the flow starts, e.g. the line's new name."))
    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.SET_NULL, related_name="service_numbers",
        verbose_name=_("queue"),
        help_text=_("Where its callers asking for a person wait; empty: the flow decides."))
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("hotline number")
        verbose_name_plural = _("hotline numbers")

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class QueueSkill(models.Model):
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="skills",
                              verbose_name=_("call queue"))
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="queues",
                              verbose_name=_("skill"))
    min_level = models.PositiveSmallIntegerField(_("minimum level"), default=1, validators=LEVEL)

    class Meta:
        verbose_name = _("required skill")
        verbose_name_plural = _("required skills")
        constraints = [models.UniqueConstraint(fields=["queue", "skill"], name="queue_skill_once")]


class OverflowAction(models.TextChoices):
    QUEUE = PureOverflowAction.QUEUE.value, _("Another queue")
    VOICEMAIL = PureOverflowAction.VOICEMAIL.value, _("Voicemail")
    CALLBACK = PureOverflowAction.CALLBACK.value, _("Call-back request")


class OverflowRule(models.Model):
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="overflow_rules",
                              verbose_name=_("call queue"))
    position = models.PositiveSmallIntegerField(_("order"), default=1)
    after_s = models.PositiveIntegerField(_("after (seconds in queue)"))
    action = models.CharField(_("overflow to"), max_length=16, choices=OverflowAction.choices)
    target_queue = models.ForeignKey(Queue, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="overflow_sources",
                                     verbose_name=_("target queue"))
    only_unstaffed = models.BooleanField(_("only when nobody is signed in"), default=False)

    class Meta:
        ordering = ["queue", "position", "after_s"]
        verbose_name = _("overflow rule")
        verbose_name_plural = _("overflow rules")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(action="queue") | models.Q(target_queue__isnull=False),
                name="overflow_queue_has_target",
            )
        ]


class CallOutcome(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    RINGING = "ringing", _("Ringing an agent")
    TALKING = "talking", _("With an agent")
    COMPLETED = "completed", _("Completed")
    ABANDONED = "abandoned", _("Abandoned")
    OVERFLOWED = "overflowed", _("Overflowed")
    # A transfer or consultation offered to one agent that was not answered: not a caller
    # lost (the caller is still with the first agent), so not counted as abandoned.
    WITHDRAWN = "withdrawn", _("Withdrawn")


class QueuedCall(models.Model):
    """One caller's time in the ACD, from joining a queue to an agent, a hang-up or overflow."""

    call_ref = models.CharField(_("call id"), max_length=128, db_index=True)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="calls",
                              verbose_name=_("call queue"))
    caller = models.CharField(_("caller number"), max_length=32, blank=True)
    citizen = models.ForeignKey("orders.Citizen", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="queued_calls",
                                verbose_name=_("citizen"))
    priority = models.PositiveSmallIntegerField(_("priority"), default=0)
    sticky_agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+",
                                     verbose_name=_("preferred agent"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=CallOutcome.choices,
                               default=CallOutcome.WAITING)
    queued_at = models.DateTimeField(_("queued"))
    entered_at = models.DateTimeField(_("joined this queue"))
    overflow_step = models.PositiveSmallIntegerField(default=0)
    offered_at = models.DateTimeField(_("offered"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    abandoned_at = models.DateTimeField(_("abandoned"), null=True, blank=True)
    overflowed_at = models.DateTimeField(_("overflowed"), null=True, blank=True)
    overflow_action = models.CharField(_("overflow to"), max_length=16, blank=True,
                                       choices=OverflowAction.choices)
    wait_s = models.FloatField(_("wait (seconds)"), null=True, blank=True)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="queued_calls",
                              verbose_name=_("agent"))
    unanswered_offers = models.PositiveSmallIntegerField(default=0)
    # The live call behind the queue entry: which gateway process holds its media (commands
    # from the desk go there), the call's contact (the order made on the call links to it)
    # and whether the caller is on hold now.
    gateway = models.CharField(_("gateway"), max_length=64, blank=True, db_index=True)
    contact = models.ForeignKey("orders.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="queued_calls",
                                verbose_name=_("contact"))
    on_hold = models.BooleanField(_("on hold"), default=False)
    # The caller's time on hold, for the statistics: ``held_at`` while on hold now, the
    # seconds of every finished hold summed in ``hold_s`` (``commands.do_update_call``).
    held_at = models.DateTimeField(_("on hold since"), null=True, blank=True)
    hold_s = models.FloatField(_("hold (seconds)"), default=0.0)

    class Meta:
        ordering = ["-queued_at"]
        verbose_name = _("queued call")
        verbose_name_plural = _("queued calls")
        indexes = [models.Index(fields=["outcome", "queued_at"], name="queuedcall_outcome")]


class AgentStatus(models.Model):
    """Where an agent is in the state machine now: one row per agent, claimed atomically."""

    agent = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True,
                                 on_delete=models.CASCADE, related_name="desk_status",
                                 verbose_name=_("agent"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices,
                             default=State.SIGNED_OUT)
    reason = models.CharField(_("reason"), max_length=16, blank=True, choices=Reason.choices)
    since = models.DateTimeField(_("since"))
    idle_since = models.DateTimeField(_("ready since"), null=True, blank=True)
    wrap_up_until = models.DateTimeField(_("wrap-up until"), null=True, blank=True)
    call = models.ForeignKey(QueuedCall, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("current call"))
    extension = models.ForeignKey(SipExtension, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("extension"))

    class Meta:
        verbose_name = _("agent state")
        verbose_name_plural = _("agent states")
        indexes = [models.Index(fields=["state", "idle_since"], name="agentstatus_state_idle")]


class StateChange(AppendOnly, models.Model):
    """Append-only log: every change of every agent's state, with its time and reason, so
    occupancy, ready time and break statistics can be computed later."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="state_changes", verbose_name=_("agent"))
    at = models.DateTimeField(_("time"))
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    from_state = models.CharField(_("from"), max_length=16, choices=State.choices)
    to_state = models.CharField(_("to"), max_length=16, choices=State.choices)
    reason = models.CharField(_("reason"), max_length=16, blank=True, choices=Reason.choices)
    call = models.ForeignKey(QueuedCall, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="state_changes", verbose_name=_("call"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("changed by"))

    class Meta:
        ordering = ["agent_id", "at", "id"]
        verbose_name = _("agent state change")
        verbose_name_plural = _("agent state changes")
        indexes = [models.Index(fields=["agent", "at"], name="statechange_agent_at"),
                   models.Index(fields=["at"], name="statechange_at")]

    changed_message = "agent state changes cannot be changed"
    deleted_message = "agent state changes cannot be deleted"


class DeskEvent(models.Model):
    """The outbox between the processes: what happened to a call or an agent, written in the
    transaction that made it happen. Every web process tails this table and pushes new rows to
    its own websockets (``hotline.contactcentre.events``), so the gateway and the desk need no other
    shared server than the database."""

    class Kind(models.TextChoices):
        AGENT_STATE = "agent_state", _("Agent state changed")
        CALL_OFFERED = "call_offered", _("Call ringing at an agent")
        CALL_ANSWERED = "call_answered", _("Call answered")
        CALL_ENDED = "call_ended", _("Call ended")
        CALL_UPDATED = "call_updated", _("Call changed (hold, transfer, conference)")
        QUEUE_CHANGED = "queue_changed", _("Queue changed")
        COMMAND_DONE = "command_done", _("Desk command carried out")
        CHAT_OFFERED = "chat_offered", _("Chat given to an agent")
        CHAT_MESSAGE = "chat_message", _("Chat message")
        CHAT_CLOSED = "chat_closed", _("Chat closed")

    at = models.DateTimeField(_("time"), db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.CASCADE, related_name="+",
                              verbose_name=_("agent"))
    call = models.ForeignKey(QueuedCall, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("call"))
    payload = models.JSONField(_("payload"), default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("desk event")
        verbose_name_plural = _("desk events")


class CommandAction(models.TextChoices):
    HOLD = "hold", _("Hold")
    RESUME = "resume", _("Resume")
    HANG_UP = "hangup", _("Hang up")
    BLIND_TRANSFER = "blind_transfer", _("Blind transfer")
    CONSULT = "consult", _("Consult (attended transfer)")
    COMPLETE_TRANSFER = "complete_transfer", _("Complete the transfer")
    CANCEL_CONSULT = "cancel_consult", _("Back to the caller")
    CONFERENCE = "conference", _("Three-way call")
    EMERGENCY = "emergency", _("Transfer to an emergency number")
    LISTEN = "listen", _("Listen in")
    WHISPER = "whisper", _("Whisper")
    BARGE = "barge", _("Barge in")


class CommandStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class CallCommand(models.Model):
    """A request from a desk (agent or supervisor) to the gateway holding a live call. The
    gateway named in ``gateway`` claims pending rows with a conditional UPDATE, carries them out
    on its event loop and records the outcome."""

    call = models.ForeignKey(QueuedCall, on_delete=models.CASCADE, related_name="commands",
                             verbose_name=_("call"))
    gateway = models.CharField(_("gateway"), max_length=64, db_index=True)
    action = models.CharField(_("action"), max_length=20, choices=CommandAction.choices)
    # An extension, a queue code, a department's transfer number or an emergency number.
    target = models.CharField(_("target"), max_length=64, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("issued by"))
    created_at = models.DateTimeField(_("created"))
    status = models.CharField(_("status"), max_length=8, choices=CommandStatus.choices,
                              default=CommandStatus.PENDING)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=255, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("call command")
        verbose_name_plural = _("call commands")
        indexes = [models.Index(fields=["gateway", "status"], name="callcommand_pending")]


def recording_path(instance: CallRecording, filename: str) -> str:
    return f"calls/{instance.created_at:%Y/%m/%d}/{filename}"


class CallRecording(models.Model):
    """Both sides of an agent call mixed into one WAV, kept with the call's contact. Each order
    linked to the contact gets it as an attachment of kind ``recording`` as well."""

    contact = models.ForeignKey("orders.Contact", on_delete=models.PROTECT,
                                related_name="call_recordings", verbose_name=_("contact"))
    call = models.ForeignKey(QueuedCall, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="recordings", verbose_name=_("call"))
    file = models.FileField(_("file"), upload_to=recording_path, max_length=255)
    seconds = models.FloatField(_("length (seconds)"))
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("call recording")
        verbose_name_plural = _("call recordings")


class ScheduledCallback(models.Model):
    """A call back the agent promised (暂无法答复): the order was registered without an answer
    and the agent calls the citizen again by ``due_at``. Listed on the agent's desk until
    marked done."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE,
                              related_name="scheduled_callbacks", verbose_name=_("work order"))
    contact = models.ForeignKey("orders.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("contact"))
    phone = models.CharField(_("phone"), max_length=32)
    due_at = models.DateTimeField(_("call back by"))
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="scheduled_callbacks",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"))
    done_at = models.DateTimeField(_("called back"), null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("scheduled call back")
        verbose_name_plural = _("scheduled call backs")
        indexes = [models.Index(fields=["created_by", "done_at", "due_at"],
                                name="callback_agent_open_due")]


class IvrOutcome(models.TextChoices):
    PASSED = VisitOutcome.PASSED.value, _("Went on")
    CHOSEN = VisitOutcome.CHOSEN.value, _("Chose an option")
    COLLECTED = VisitOutcome.COLLECTED.value, _("Entered digits")
    RECORDED = VisitOutcome.RECORDED.value, _("Recorded a message")
    CANCELLED = VisitOutcome.CANCELLED.value, _("Discarded the recording")
    SERVICE = VisitOutcome.SERVICE.value, _("Service answered")
    OPERATOR = VisitOutcome.OPERATOR.value, _("Asked for a person")
    GAVE_UP = VisitOutcome.GAVE_UP.value, _("Too many wrong keys or silences")
    TRANSFERRED = VisitOutcome.TRANSFERRED.value, _("Transferred")
    ENDED = VisitOutcome.ENDED.value, _("The IVR hung up")
    CALLER_HUNG_UP = VisitOutcome.CALLER_HUNG_UP.value, _("Caller hung up")


class IvrVisit(models.Model):
    """One stay of one call at one IVR node (the per-node IVR statistics read these rows):
    when the caller arrived, the keys pressed there, the retries, how the node was left and
    how long it took. Written once when the call ends (``hotline.contactcentre.ivr``)."""

    contact = models.ForeignKey("orders.Contact", on_delete=models.CASCADE,
                                related_name="ivr_visits", verbose_name=_("contact"))
    call_ref = models.CharField(_("call id"), max_length=128, db_index=True)
    position = models.PositiveSmallIntegerField(_("step"))
    node = models.CharField(_("IVR node"), max_length=64)
    entered_at = models.DateTimeField(_("entered"))
    digits = models.CharField(_("keys pressed"), max_length=64, blank=True)
    retries = models.PositiveSmallIntegerField(_("retries"), default=0)
    outcome = models.CharField(_("outcome"), max_length=16, choices=IvrOutcome.choices)
    duration_s = models.FloatField(_("duration (seconds)"))

    class Meta:
        ordering = ["contact_id", "position"]
        verbose_name = _("IVR visit")
        verbose_name_plural = _("IVR visits")
        constraints = [models.UniqueConstraint(fields=["contact", "position"],
                                               name="ivrvisit_step_once")]
        indexes = [models.Index(fields=["node", "entered_at"], name="ivrvisit_node_at"),
                   models.Index(fields=["entered_at"], name="ivrvisit_at")]

    def __str__(self) -> str:
        return f"{self.call_ref} #{self.position} {self.node}"


class ChatState(models.TextChoices):
    WAITING = "waiting", _("Waiting for an agent")
    ACTIVE = "active", _("With an agent")
    CLOSED = "closed", _("Closed")
    LEFT_MESSAGE = "left_message", _("Message left")
    ABANDONED = "abandoned", _("Left while waiting")


class ChatSession(models.Model):
    """One web chat: queued by the ACD like a call, held by one agent among several chats.
    The citizen's browser knows it by ``token`` (a secret, never an id); its contact is the
    transcript."""

    token = models.CharField(_("token"), max_length=64, unique=True)
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="chats",
                              verbose_name=_("queue"))
    state = models.CharField(_("state"), max_length=16, choices=ChatState.choices,
                             default=ChatState.WAITING, db_index=True)
    priority = models.IntegerField(_("priority"), default=0)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="chats",
                              verbose_name=_("agent"))
    contact = models.OneToOneField("orders.Contact", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="chat",
                                   verbose_name=_("contact"))
    name = models.CharField(_("name given"), max_length=64, blank=True)
    phone = models.CharField(_("phone given"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("started"), db_index=True)
    assigned_at = models.DateTimeField(_("taken"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("citizen last seen"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("chat")
        verbose_name_plural = _("chats")
        indexes = [models.Index(fields=["agent", "state"], name="chat_agent_state")]


class ChatMessage(models.Model):
    class Sender(models.TextChoices):
        CITIZEN = "citizen", _("Citizen")
        AGENT = "agent", _("Agent")
        SYSTEM = "system", _("System")

    chat = models.ForeignKey(ChatSession, on_delete=models.CASCADE, related_name="messages",
                             verbose_name=_("chat"))
    sender = models.CharField(_("sender"), max_length=8, choices=Sender.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("author"))
    text = models.TextField(_("text"), blank=True)
    file = models.FileField(_("file"), upload_to="chat/%Y/%m/", blank=True)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")


class OutboundFax(models.Model):
    """A fax to send (an order's reply to a citizen or unit that asked for one by fax). A row
    any gateway with a trunk may claim (conditional UPDATE); the gateway renders the text into
    fax pages, dials the number through the trunk and reports the outcome."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    # None for a fax campaign's fax (outreach's campaign recipient points at the row).
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="faxes",
                              null=True, blank=True, verbose_name=_("order"))
    number = models.CharField(_("fax number"), max_length=32)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices,
                             default=State.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_try_at = models.DateTimeField(_("next try"))
    gateway = models.CharField(_("gateway"), max_length=64, blank=True)
    pages = models.PositiveSmallIntegerField(_("pages sent"), default=0)
    error = models.CharField(_("error"), max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("requested by"))
    created_at = models.DateTimeField(_("requested"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outbound fax")
        verbose_name_plural = _("outbound faxes")
