"""A campaign's recorded notice: an uploaded WAV, checked by its content
(``core.files.inspect_upload``) and stored as the gateway plays recordings: 8 kHz, 16-bit,
mono. Another WAV format is converted with sox (Debian) when it is installed, else refused
with what to do."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
import wave
from pathlib import Path
from typing import IO

from django.conf import settings
from django.utils.translation import gettext_noop

from hotline.core.errors import InvalidInput
from hotline.core.files import FileKind, FileRefused, inspect_upload

MAX_BYTES = 20 * 1024 * 1024  # about 20 minutes of 8 kHz audio: far more than a notice
MAX_SECONDS = 300
FOLDER = "outreach/notices"


def _wrong(message: str) -> InvalidInput:
    return InvalidInput(message, field="recording")


def store_recording(upload: IO[bytes], size: int) -> str:
    """Store the notice; its path under MEDIA_ROOT. InvalidInput when it is not usable."""
    if size > MAX_BYTES:
        raise _wrong(gettext_noop("The recording is larger than 20 MB."))
    try:
        checked = inspect_upload(upload)
    except FileRefused:
        raise _wrong(gettext_noop("Upload the notice as a WAV file.")) from None
    if checked.kind != FileKind.WAV:
        raise _wrong(gettext_noop("Upload the notice as a WAV file."))
    upload.seek(0)
    data = upload.read(MAX_BYTES + 1)
    relative = f"{FOLDER}/{uuid.uuid4().hex}.wav"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(suffix=".wav", dir=target.parent) as raw:
        raw.write(data)
        raw.flush()
        try:
            with wave.open(raw.name, "rb") as wav:
                params = (wav.getframerate(), wav.getsampwidth(), wav.getnchannels())
                seconds = wav.getnframes() / max(1, wav.getframerate())
        except (wave.Error, EOFError):
            # Not PCM (a compressed WAV, say): sox may still read it.
            params, seconds = (0, 0, 0), 0.0
        if seconds > MAX_SECONDS:
            raise _wrong(gettext_noop("The recording is longer than 5 minutes."))
        if params == (8000, 2, 1):
            shutil.copyfile(raw.name, target)
        else:
            _convert(Path(raw.name), target)
    return relative


def _convert(source: Path, target: Path) -> None:
    sox = shutil.which("sox")
    if sox is None:
        raise _wrong(gettext_noop("Upload the notice as 8 kHz 16-bit mono WAV (sox is not "
                                  "installed here to convert it)."))
    # Our own paths and fixed arguments: nothing of the upload reaches the command line.
    done = subprocess.run([sox, str(source), "-r", "8000", "-c", "1", "-b", "16", "-e",  # noqa: S603
                           "signed-integer", str(target)], capture_output=True, timeout=60,
                          check=False)
    if done.returncode != 0 or not target.exists():
        target.unlink(missing_ok=True)
        raise _wrong(gettext_noop("The recording could not be read as audio."))
    with wave.open(str(target), "rb") as wav:
        if wav.getnframes() / 8000 > MAX_SECONDS:
            target.unlink(missing_ok=True)
            raise _wrong(gettext_noop("The recording is longer than 5 minutes."))
