"""What the gateway's agent calls do in the platform: synchronous Django code that the gateway runs
in worker threads (never on its event loop), over ``hotline.contactcentre.services`` and ``commands``.

A caller handed to a person joins a queue (``enqueue``); the gateway's router asks ``route`` for
offers to ring and overflows to carry out; the agent's phone answering, not answering, the
caller leaving and the end of the call each go through the desk services, which keep the agents'
states and publish the desk events. Recordings of agent calls are stored with the call's
contact and attached to every order linked to it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
import wave
from dataclasses import dataclass
from pathlib import Path

from django.core.files import File
from django.db import close_old_connections, transaction
from django.utils import timezone

from hotline.contactcentre import services
from hotline.contactcentre.acd import routing
from hotline.contactcentre.models import (
    AgentStatus,
    CallOutcome,
    CallRecording,
    Queue,
    QueuedCall,
    SipExtension,
)
from hotline.core.errors import ServiceError
from hotline.orders.contacts import do_set_contact_agent
from hotline.orders.models import Contact

logger = logging.getLogger(__name__)

LIVE = (CallOutcome.WAITING, CallOutcome.RINGING, CallOutcome.TALKING)


class NoQueue(Exception):
    """No active queue exists: the caller cannot reach a person here."""


class AgentUnavailable(Exception):
    """The agent asked for (a transfer, a consultation) is not free or has no phone."""


@dataclass(frozen=True)
class Enqueued:
    queued_id: int
    queue: str
    ring_timeout_s: float


@dataclass(frozen=True)
class Offered:
    queued_id: int
    agent_id: int
    extension: str  # "" when the agent's desk is not tied to an extension
    ring_timeout_s: float


@dataclass(frozen=True)
class Overflowed:
    queued_id: int
    action: str  # voicemail or callback (moves to another queue stay inside the ACD)


@dataclass(frozen=True)
class Routed:
    offers: list[Offered]
    overflows: list[Overflowed]


def _fresh() -> None:
    close_old_connections()


@dataclass(frozen=True)
class ExtensionCredentials:
    number: str
    realm: str
    ha1_md5: str
    ha1_sha256: str


def extension_credentials() -> list[ExtensionCredentials]:
    """Every enabled extension with a password (its HA1s), for the registrar's lookup."""
    _fresh()
    return [
        ExtensionCredentials(number, realm, md5, sha256)
        for number, realm, md5, sha256 in SipExtension.objects.filter(enabled=True)
        .exclude(ha1_md5="").values_list("number", "realm", "ha1_md5", "ha1_sha256")
    ]


def queue_for(target: str, line_queue: str = "") -> Queue:
    """The queue an IVR transfer names (its code), else the called number's queue (a merged
    hotline keeps its own), else the first active queue."""
    queues = Queue.objects.filter(active=True)
    queue = (queues.filter(code=target).first()
             or (queues.filter(code=line_queue).first() if line_queue else None)
             or queues.order_by("pk").first())
    if queue is None:
        raise NoQueue("no active call queue")
    return queue


def enqueue(*, call_ref: str, caller: str, target: str, gateway: str,
            contact_id: int | None, line_queue: str = "") -> Enqueued:
    _fresh()
    queue = queue_for(target, line_queue)
    call = services.do_enqueue_call(queue, call_ref=call_ref, caller=caller, gateway=gateway,
                                contact_id=contact_id)
    return Enqueued(call.pk, queue.code, float(queue.ring_timeout_s))


def announcement_text(queued_id: int) -> str:
    """您前面还有N位 / 预计等待M分钟, or "" when the call no longer waits."""
    _fresh()
    found = services.announcement(queued_id)
    if found is None:
        return ""
    ahead, minutes = found[0] - 1, found[1]
    text = "您是下一位，请稍候。" if ahead <= 0 else f"您前面还有{ahead}位来电。"
    if minutes:
        text += f"预计等待{minutes}分钟。"
    return text + "请不要挂机。"


def _offered(call_ids: list[int]) -> list[Offered]:
    rows = (QueuedCall.objects.filter(pk__in=call_ids, outcome=CallOutcome.RINGING)
            .values_list("pk", "agent_id", "queue__ring_timeout_s"))
    agents = {pk: agent for pk, agent, _ in rows}
    extensions = dict(AgentStatus.objects.filter(agent_id__in=list(agents.values()))
                      .values_list("agent_id", "extension__number"))
    return [Offered(pk, agent, extensions.get(agent) or "", float(timeout))
            for pk, agent, timeout in rows if agent is not None]


def route(gateway: str) -> Routed:
    """Expire finished wrap-ups, then route this gateway's waiting calls.

    One transaction: an offer is a claimed agent that only this gateway will ring, so offers
    are committed together with the answer that hands them to the gateway, or not at all."""
    _fresh()
    services.do_expire_wrap_ups()
    with transaction.atomic():
        result = services.do_route(gateway=gateway)
        overflowed = [o.call for o in result.overflows if o.rule.action != "queue"]
        actions = dict(QueuedCall.objects.filter(pk__in=overflowed,
                                                 outcome=CallOutcome.OVERFLOWED)
                       .values_list("pk", "overflow_action"))
    return Routed(_offered([o.call for o in result.offers]),
                  [Overflowed(pk, action) for pk, action in actions.items()])


def _tolerant(action: str, function: object, queued_id: int) -> None:
    _fresh()
    try:
        function(queued_id)  # type: ignore[operator]
    except ServiceError as exc:  # the call moved on meanwhile (another event was first)
        logger.info("queued call %s: %s skipped: %s", queued_id, action, exc)


def answered(queued_id: int) -> None:
    _fresh()
    with transaction.atomic():
        call = services.do_call_answered(queued_id)
        if call.contact_id is not None:
            do_set_contact_agent(call.contact_id, call.agent_id)


def ring_failed(queued_id: int) -> None:
    _tolerant("ring timeout", services.do_ring_timeout, queued_id)


def abandoned(queued_id: int) -> None:
    _tolerant("abandon", services.do_call_abandoned, queued_id)


def ended(queued_id: int) -> None:
    _tolerant("end", services.do_call_ended, queued_id)


def offer_to_extension(queued_id: int, extension: str) -> Offered | None:
    """Ring one particular agent for a live call (a transfer or consultation to a colleague):
    a new queue entry for the same call in the same queue, claimed for that agent at once.

    None when the extension is nobody's in the ACD (a leader's or a department head's phone,
    a meeting room): there is no agent state to claim, the gateway simply rings it."""
    _fresh()
    phone = SipExtension.objects.filter(number=extension, enabled=True) \
        .select_related("agent").first()
    if phone is None:
        raise AgentUnavailable("no such extension")
    if phone.agent_id is None or phone.agent is None \
            or phone.agent.role not in services.DESK_ROLES:
        return None
    current = QueuedCall.objects.select_related("queue").get(pk=queued_id)
    with transaction.atomic():
        new = services.do_enqueue_call(current.queue, call_ref=current.call_ref,
                                   caller=current.caller, citizen=current.citizen,
                                   gateway=current.gateway, contact_id=current.contact_id)
        if not services.do_offer_call(new, phone.agent_id):
            transaction.set_rollback(True)
            raise AgentUnavailable("the agent is not ready for calls")
    return Offered(new.pk, phone.agent_id, extension, float(current.queue.ring_timeout_s))


def give_up(queued_id: int) -> bool:
    """The gateway's own limit on waiting ran out for a call still waiting: it overflows to
    a call-back request, recorded as a queue's callback rule records it. False when the call
    no longer waits (an agent was offered it meanwhile)."""
    _fresh()
    step = QueuedCall.objects.filter(pk=queued_id, outcome=CallOutcome.WAITING) \
        .values_list("overflow_step", flat=True).first()
    if step is None:
        return False
    rule = routing.OverflowRule(after_s=0, action=routing.OverflowAction.CALLBACK)
    # The desk's own overflow step (conditional on the call still waiting at that step), so
    # the row and its queue_changed event look exactly like a queue rule's.
    return services._overflow(routing.Overflow(queued_id, rule, step), timezone.now())


def withdraw_offer(queued_id: int) -> None:
    """A transfer or consultation that was not answered: the entry made for it goes, and the
    agent who did not answer becomes ready again (they were not the caller's queue)."""
    _tolerant("withdraw", services.do_withdraw_offer, queued_id)


def recover(gateway: str) -> int:
    """Calls a previous run of this gateway left live (it was killed): they are over."""
    _fresh()
    count = 0
    for pk, outcome in QueuedCall.objects.filter(gateway=gateway, outcome__in=LIVE) \
            .values_list("pk", "outcome"):
        if outcome == CallOutcome.TALKING:
            ended(pk)
        else:
            abandoned(pk)
        count += 1
    return count


RECORDING_NAME = re.compile(r"^agent-(?P<gateway>[A-Za-z0-9_.-]+)-c(?P<contact>\d+)-q(?P<call>\d+)"
                            r"-[0-9a-f]{32}\.wav$")


def _file_tag(gateway: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", gateway)[:40]


def recording_name(gateway: str, contact_id: int | None, queued_id: int) -> str:
    """The working file's name says whose it is, so a restarted gateway can store what its
    killed predecessor was recording (``recover_recordings``)."""
    return f"agent-{_file_tag(gateway)}-c{contact_id or 0}-q{queued_id}-{uuid.uuid4().hex}.wav"


def recover_recordings(directory: Path, gateway: str) -> int:
    """Store the agent-call recordings a previous run of this gateway left in ``directory``
    (its dated folders): each with its call's contact, attached to the contact's orders."""
    tag = _file_tag(gateway)
    stored = 0
    for path in sorted(Path(directory).glob("*/agent-*.wav")):
        match = RECORDING_NAME.match(path.name)
        if match is None or match["gateway"] != tag:
            continue
        contact_id, queued_id = int(match["contact"]) or None, int(match["call"])
        try:
            with wave.open(str(path), "rb") as wav:
                seconds = wav.getnframes() / float(wav.getframerate() or 8000)
        except (wave.Error, EOFError, OSError):
            logger.warning("recording %s is unreadable: kept where it is", path)
            continue
        known = QueuedCall.objects.filter(pk=queued_id).exists()
        if store_recording(queued_id if known else None, contact_id, str(path),
                           seconds) is not None:
            path.unlink(missing_ok=True)
            stored += 1
    return stored


def store_recording(queued_id: int | None, contact_id: int | None, path: str,
                    seconds: float) -> int | None:
    """Keep an agent call's recording with its contact and attach it to the contact's orders.
    Returns the CallRecording's id; None (the working file stays) when there is no contact."""
    _fresh()
    source = Path(path)
    if contact_id is None or not source.exists():
        return None
    contact = Contact.objects.get(pk=contact_id)
    data = source.read_bytes()
    recording = CallRecording(contact=contact, call_id=queued_id, seconds=seconds,
                              size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                              created_at=timezone.now())
    with source.open("rb") as handle:
        recording.file.save(f"{uuid.uuid4().hex}.wav", File(handle), save=False)
    try:
        recording.save()
    except Exception:
        recording.file.delete(save=False)
        raise
    attach_to_orders(contact)
    return recording.pk


def attach_to_orders(contact: Contact) -> None:
    from hotline.contactcentre.callbacks import attach_call_recordings

    for order in contact.orders.all():
        attach_call_recordings(order, contact)
