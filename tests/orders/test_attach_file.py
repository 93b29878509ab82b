"""``do_attach_file``: the one way a file joins an order, from each of its three callers."""

from __future__ import annotations

import hashlib
import io
import wave
from pathlib import Path
from typing import TYPE_CHECKING
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from hotline.contactcentre import callbacks
from hotline.contactcentre.models import CallRecording
from hotline.core.errors import InvalidInput
from hotline.orders import attachments
from hotline.orders.attachments import do_attach, do_attach_file
from hotline.orders.models import Attachment
from hotline.voice import services as voice

from .helpers import new_order

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

    from tests.conftest import City


@pytest.fixture(autouse=True)
def media_root(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def wav_bytes() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x01\x00" * 800)
    return buffer.getvalue()


def test_an_upload_is_judged_by_its_content(city: City) -> None:
    order = new_order(city.agent)
    with pytest.raises(InvalidInput):
        do_attach(city.agent, order, SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not a photo"),
                  Attachment.Kind.INTAKE)
    made = do_attach(city.agent, order, SimpleUploadedFile("note.txt", "市民补充材料".encode()),
                     Attachment.Kind.INTAKE)
    assert (made.content_type, made.uploaded_by) == ("text/plain", city.agent)
    assert not Attachment.objects.exclude(pk=made.pk).exists()


def test_a_stored_recording_is_referenced_not_copied(city: City) -> None:
    order = new_order(city.agent)
    source = ContentFile(wav_bytes(), name="recordings/x.wav")
    made = do_attach_file(None, order, source, Attachment.Kind.RECORDING, name="call.wav",
                          stored=True, digest=("ab" * 32, 1234))
    assert (made.file.name, made.sha256, made.size, made.uploaded_by) == (
        "recordings/x.wav", "ab" * 32, 1234, None)
    assert made.content_type == "audio/wav"


def test_the_voice_gateway_attaches_through_it(city: City, tmp_path: Path) -> None:
    order = new_order(city.agent)
    path = Path(tmp_path / "rec.wav")
    path.write_bytes(wav_bytes())
    with mock.patch.object(voice, "do_attach_file", wraps=attachments.do_attach_file) as spy:
        made = voice.do_attach_recording(city.system, order, path)
    assert spy.call_count == 1 and spy.call_args.args[3] == Attachment.Kind.RECORDING
    assert made.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert made.file.name != str(path)  # copied into storage: the gateway's file may go


def test_the_desk_attaches_through_it(city: City) -> None:
    order = new_order(city.agent)
    contact = order.contacts.get()  # type: ignore[attr-defined]  # Contact.orders' reverse
    data = wav_bytes()
    recording = CallRecording(contact=contact, seconds=0.1, size=len(data),
                              sha256=hashlib.sha256(data).hexdigest(), created_at=timezone.now())
    recording.file.save("call.wav", ContentFile(data), save=False)
    recording.save()
    with mock.patch.object(callbacks, "do_attach_file",
                           wraps=attachments.do_attach_file) as spy:
        made = callbacks.attach_call_recordings(order, contact)
        again = callbacks.attach_call_recordings(order, contact)
    assert spy.call_count == 1 and again == []
    assert [m.file.name for m in made] == [recording.file.name]
    assert made[0].created_at == recording.created_at
