"""Files attached to work orders: uploading (``do_attach``) and who may read them.

Who may attach: anyone who can see the order, except read-only auditors; a department reply file
(kind "reply") only from the unit that holds the order as lead. Call recordings come from the
voice gateway, never from an upload. The stored file gets a generated name (the citizen's file
name is kept in ``Attachment.name`` only), so odd or hostile file names never reach the disk.

What a file is comes from its content (``hotline.core.files``), never from the name or the
content type the browser sent: only images, PDF, office documents, audio and plain text are
kept, photos are re-encoded without their metadata (a phone's photo carries where it was
taken), and the stored name, the offered name and the content type all follow the content.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
import uuid
from pathlib import PurePath
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from hotline.core.files import FileRefused, inspect_upload
from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.orders import lifecycle
from hotline.orders.lifecycle import Action, State
from hotline.orders.models import Assignment, Attachment, Order
from hotline.orders.scope import can_see_order, citizen_hidden

UPLOADABLE_KINDS = frozenset({Attachment.Kind.INTAKE, Attachment.Kind.REPLY, Attachment.Kind.OTHER})


class TooLarge(ServiceError):
    status = 413


def max_attachment_bytes() -> int:
    return int(settings.HOTLINE_MAX_ATTACHMENT_BYTES)


def clean_file_name(raw: str | None) -> str:
    """The citizen's file name without directories, control characters or unencodable
    characters, at most 255 characters; "file" when nothing is left."""
    name = PurePath((raw or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.encode("utf-8", "replace").decode("utf-8").strip()
    if len(name) > 255:
        suffix = PurePath(name).suffix[:16]
        name = name[: 255 - len(suffix)] + suffix
    return name or "file"


def _holds_lead(actor: User, order: Order) -> bool:
    """The actor replies for the lead unit: a role that may reply, in the unit (or above the
    street) holding the active lead assignment. The centre never replies for a department."""
    if actor.unit is None or actor.role not in lifecycle.ACTION_ROLES[Action.REPLY]:
        return False
    return Assignment.objects.filter(
        order=order, unit_id__in=actor.unit.descendant_ids(), role=Assignment.Role.LEAD,
        active=True,
    ).exists()


def check_can_attach(actor: User, order: Order, kind: str) -> None:
    if kind not in UPLOADABLE_KINDS:
        allowed = ", ".join(sorted(UPLOADABLE_KINDS))
        raise InvalidInput(f"kind must be one of {allowed}", field="kind")
    if not can_see_order(actor, order):
        raise NotFound(f"no work order {order.number}")
    if actor.is_superuser:
        return
    if actor.role == Role.AUDITOR:
        raise Forbidden("auditors have read-only access")
    if kind == Attachment.Kind.REPLY and not _holds_lead(actor, order):
        raise Forbidden("only the lead unit attaches reply files")
    if order.state == State.ARCHIVED:
        raise Conflict("archived orders take no more files")


def _digest(source: File, limit: int | None) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    for chunk in source.chunks():
        sha.update(chunk)
        size += len(chunk)
        if limit is not None and size > limit:
            raise TooLarge(f"the file is larger than {limit} bytes", field="file")
    return sha.hexdigest(), size


RECORDING_TYPE = "audio/wav"


def do_attach_file(
    actor: User | None,
    order: Order,
    source: File,
    kind: str,
    *,
    name: str = "",
    contact_id: int | None = None,
    stored: bool = False,
    digest: tuple[str, int] | None = None,
    now: dt.datetime | None = None,
) -> Attachment:
    """The one way a file joins an order: an upload, a call recording from the gateway or the
    desk (``actor`` None: no person uploaded it). Returns the new attachment.

    Uploads are judged by their content (``hotline.core.files``) and limited in size; a
    recording is written by our own gateway (never uploaded), so it is taken as the WAV it is
    and not limited (calls are long). ``stored`` points the attachment at ``source``'s file in
    storage instead of copying it (recordings are large and never change); ``digest`` is the
    (sha256, size) already known for it, so a large file is not read again."""
    recording = kind == Attachment.Kind.RECORDING
    limit = None if recording else max_attachment_bytes()
    if limit is not None and source.size is not None and source.size > limit:
        raise TooLarge(f"the file is larger than {limit} bytes", field="file")
    sha256, size = digest or _digest(source, limit)
    if size == 0 and not recording:  # a silent call still leaves its (empty) recording
        raise InvalidInput("the file is empty", field="file")
    content: File = source
    if recording:
        display, content_type, extension = clean_file_name(name or source.name), RECORDING_TYPE, ".wav"
    else:
        try:
            checked = inspect_upload(source)
        except FileRefused as refused:
            raise InvalidInput(refused.message, field="file") from None
        if checked.content is not None:  # a re-encoded image: what is stored is what is counted
            content = ContentFile(checked.content)
            sha256, size = hashlib.sha256(checked.content).hexdigest(), len(checked.content)
        display = checked.display_name(clean_file_name(name or source.name))
        content_type, extension = checked.content_type, checked.extension
        source.seek(0)
    attachment = Attachment(
        order=order, contact_id=contact_id, kind=kind, name=display, content_type=content_type,
        size=size, sha256=sha256, uploaded_by=actor if actor is not None and actor.pk else None,
        created_at=now or timezone.now(),
    )
    if stored:
        attachment.file.name = source.name
    else:
        attachment.file.save(uuid.uuid4().hex + extension, content, save=False)
    try:
        with transaction.atomic():
            attachment.save()
    except Exception:
        if not stored:  # the row did not make it: do not leave an orphan file behind
            attachment.file.delete(save=False)
        raise
    return attachment


def do_attach(
    actor: User,
    order: Order,
    uploaded: UploadedFile,
    kind: str,
    *,
    now: dt.datetime | None = None,
) -> Attachment:
    """Store an uploaded file with the order; returns the new attachment."""
    check_can_attach(actor, order, kind)
    return do_attach_file(actor, order, uploaded, kind, name=uploaded.name or "", now=now)


def visible_attachments(actor: User, order: Order) -> QuerySet[Attachment]:
    """The order's files the actor may read: call recordings carry the citizen's voice and
    number, so whoever may not know the citizen does not get them."""
    qs = Attachment.objects.filter(order=order).order_by("created_at", "pk")
    if citizen_hidden(actor, order):
        qs = qs.exclude(kind=Attachment.Kind.RECORDING)
    return qs


def get_attachment_for(actor: User, order: Order, attachment_id: int) -> Attachment:
    if not can_see_order(actor, order):
        raise NotFound(f"no work order {order.number}")
    found = visible_attachments(actor, order).filter(pk=attachment_id).first()
    if found is None:
        raise NotFound(f"no attachment {attachment_id} on order {order.number}")
    return found


def open_attachment(attachment: Attachment) -> IO[bytes]:
    return attachment.file.open("rb")  # type: ignore[return-value]
