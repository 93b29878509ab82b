"""What an uploaded file really is, judged by its content, and photos stripped of their metadata.

The name and the content type a browser sends are the uploader's claims: an HTML page named
``photo.jpg`` is still a page, and a browser or a colleague's file manager may treat it as one.
``inspect_upload`` therefore reads the bytes: magic numbers, and the structure behind them where
a magic number is shared (a zip may be a Word document or any archive; an OLE2 compound file
may be a legacy Word or Excel file or a Windows installer). Only the kinds a citizen or a
department sends with a work order are accepted: images, PDF, office documents, audio and plain
text. Everything else (HTML, SVG, XML, executables, scripts, archives, macro-enabled documents)
is refused with a message naming the allowed types.

Images are decoded (at most ``HOTLINE_MAX_IMAGE_PIXELS`` pixels, so a decompression bomb is
refused before it is decoded), turned upright by their EXIF orientation and re-encoded from the
pixels alone: EXIF (with its GPS position), XMP, ICC profiles and comments do not survive, nor
anything hidden after the image data. An animated GIF keeps its first frame.
"""

from __future__ import annotations

import enum
import io
import re
import struct
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

_SNIFF_BYTES = 4096


class FileKind(enum.StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    GIF = "gif"
    WEBP = "webp"
    PDF = "pdf"
    DOCX = "docx"
    XLSX = "xlsx"
    PPTX = "pptx"
    DOC = "doc"
    XLS = "xls"
    PPT = "ppt"
    ODT = "odt"
    ODS = "ods"
    ODP = "odp"
    WAV = "wav"
    MP3 = "mp3"
    AMR = "amr"
    M4A = "m4a"
    AAC = "aac"
    OGG = "ogg"
    TEXT = "text"


@dataclass(frozen=True)
class KindInfo:
    content_type: str
    extension: str  # what the stored and offered file name ends with
    aliases: tuple[str, ...] = ()  # other extensions a name of this kind may keep


KINDS: dict[FileKind, KindInfo] = {
    FileKind.JPEG: KindInfo("image/jpeg", ".jpg", (".jpeg", ".jpe")),
    FileKind.PNG: KindInfo("image/png", ".png"),
    FileKind.GIF: KindInfo("image/gif", ".gif"),
    FileKind.WEBP: KindInfo("image/webp", ".webp"),
    FileKind.PDF: KindInfo("application/pdf", ".pdf"),
    FileKind.DOCX: KindInfo(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    FileKind.XLSX: KindInfo(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    FileKind.PPTX: KindInfo(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation", ".pptx"),
    FileKind.DOC: KindInfo("application/msword", ".doc"),
    FileKind.XLS: KindInfo("application/vnd.ms-excel", ".xls"),
    FileKind.PPT: KindInfo("application/vnd.ms-powerpoint", ".ppt"),
    FileKind.ODT: KindInfo("application/vnd.oasis.opendocument.text", ".odt"),
    FileKind.ODS: KindInfo("application/vnd.oasis.opendocument.spreadsheet", ".ods"),
    FileKind.ODP: KindInfo("application/vnd.oasis.opendocument.presentation", ".odp"),
    FileKind.WAV: KindInfo("audio/wav", ".wav"),
    FileKind.MP3: KindInfo("audio/mpeg", ".mp3"),
    FileKind.AMR: KindInfo("audio/amr", ".amr"),
    FileKind.M4A: KindInfo("audio/mp4", ".m4a"),
    FileKind.AAC: KindInfo("audio/aac", ".aac"),
    FileKind.OGG: KindInfo("audio/ogg", ".ogg", (".oga", ".opus")),
    FileKind.TEXT: KindInfo("text/plain", ".txt", (".log", ".csv")),
}
IMAGE_KINDS = frozenset({FileKind.JPEG, FileKind.PNG, FileKind.GIF, FileKind.WEBP})
_PIL_FORMATS = {FileKind.JPEG: "JPEG", FileKind.PNG: "PNG", FileKind.GIF: "GIF",
                FileKind.WEBP: "WEBP"}

_OOXML_MAIN_PARTS = {
    "word/document.xml": FileKind.DOCX,
    "xl/workbook.xml": FileKind.XLSX,
    "ppt/presentation.xml": FileKind.PPTX,
}
_ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": FileKind.ODT,
    b"application/vnd.oasis.opendocument.spreadsheet": FileKind.ODS,
    b"application/vnd.oasis.opendocument.presentation": FileKind.ODP,
}
_OLE_STREAMS = {
    "worddocument": FileKind.DOC,
    "workbook": FileKind.XLS,
    "book": FileKind.XLS,
    "powerpoint document": FileKind.PPT,
}
# Storages that hold VBA macros in legacy Office files.
_OLE_MACRO_NAMES = frozenset({"macros", "_vba_project_cur", "vba", "_vba_project"})
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Text that a browser, a mail client or a shell would take for markup or a program.
_MARKUP_START = re.compile(r"^\s*(<[a-zA-Z!?/]|#!)")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MARKUP_INSIDE = ("<script", "<html", "<svg", "<!doctype", "<?xml", "<?php", "<iframe",
                  "<body", "<object", "<embed", "javascript:")


class FileRefused(ValueError):
    """The upload is not one of the allowed kinds (or is a broken or oversized image)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def allowed_types_text() -> str:
    return _("images (JPEG, PNG, GIF, WebP), PDF, office documents (Word, Excel, PowerPoint, "
             "OpenDocument), audio (WAV, MP3, AMR, M4A/AAC, OGG) and plain text")


def _refuse(what: str) -> FileRefused:
    return FileRefused(_("This file is refused: %(what)s. Allowed are %(allowed)s.")
                       % {"what": what, "allowed": allowed_types_text()})


@dataclass(frozen=True)
class CheckedFile:
    kind: FileKind
    content: bytes | None  # re-encoded bytes for images; None: store the upload as it is

    @property
    def content_type(self) -> str:
        return KINDS[self.kind].content_type

    @property
    def extension(self) -> str:
        return KINDS[self.kind].extension

    def display_name(self, name: str) -> str:
        """``name`` (already cleaned of paths and control characters) with an extension that
        says what the file is: ``invoice.html`` holding a PDF is offered as ``invoice.pdf``."""
        path = PurePath(name)
        info = KINDS[self.kind]
        if path.suffix.lower() in (info.extension, *info.aliases):
            return name
        stem = path.stem if path.suffix else name
        return (stem or "file") + info.extension


# --- sniffing ------------------------------------------------------------------------------

def _is_mp3(head: bytes) -> bool:
    if head.startswith(b"ID3"):
        return True
    # An MPEG audio frame header: 11 sync bits, a version that exists, layer III.
    return (len(head) >= 4 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0
            and (head[1] >> 3) & 0x03 != 0x01 and (head[1] >> 1) & 0x03 == 0x01
            and (head[2] >> 4) != 0x0F)


def _is_adts(head: bytes) -> bool:
    return len(head) >= 7 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0


def _mp4_audio(head: bytes) -> bool:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return False
    size = int.from_bytes(head[0:4], "big")
    brands = [head[8:12]] + [head[i:i + 4] for i in range(16, min(size, len(head)) - 3, 4)]
    return any(brand in (b"M4A ", b"M4B ") for brand in brands)


def _sniff_magic(head: bytes) -> FileKind | None:
    if head.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return FileKind.GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileKind.WEBP
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return FileKind.WAV
    if head.startswith(b"%PDF-"):
        return FileKind.PDF
    if head.startswith((b"#!AMR\n", b"#!AMR-WB\n")):
        return FileKind.AMR
    if head.startswith(b"OggS"):
        return FileKind.OGG
    if _mp4_audio(head):
        return FileKind.M4A
    if _is_mp3(head):
        return FileKind.MP3
    if _is_adts(head):
        return FileKind.AAC
    return None


def _zip_kind(source: IO[bytes]) -> FileKind:
    try:
        with zipfile.ZipFile(source) as archive:
            names = {name.lower(): name for name in archive.namelist()}
            if "mimetype" in names:
                with archive.open(names["mimetype"]) as member:  # never unpack a whole member
                    mimetype = member.read(100).strip()
                if mimetype in _ODF_MIMETYPES:
                    return _ODF_MIMETYPES[mimetype]
            if "[content_types].xml" in names:
                if any(n.endswith("vbaproject.bin") for n in names):
                    raise _refuse(_("an office document with macros"))
                for part, kind in _OOXML_MAIN_PARTS.items():
                    if part in names:
                        with archive.open(names["[content_types].xml"]) as member:
                            types = member.read(200_000).lower()
                        if b"macroenabled" in types:
                            raise _refuse(_("an office document with macros"))
                        return kind
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, KeyError,
            RuntimeError, NotImplementedError):
        raise _refuse(_("a damaged or encrypted archive")) from None
    raise _refuse(_("an archive (zip)"))


def _ole_directory_names(data: bytes) -> list[str]:
    """The stream and storage names of an OLE2 compound file ([MS-CFB]): the header's FAT
    sectors, then the directory sector chain. Bounded by the file's own size."""
    if len(data) < 512:
        raise ValueError("short header")
    sector_shift, = struct.unpack_from("<H", data, 30)
    if sector_shift not in (9, 12):
        raise ValueError("sector size")
    size = 1 << sector_shift
    fat_count, first_directory = struct.unpack_from("<II", data, 44)
    first_difat, difat_count = struct.unpack_from("<II", data, 68)
    fat_sectors = [s for s in struct.unpack_from("<109I", data, 76) if s < 0xFFFFFFFA]
    seen_difat = 0
    while first_difat < 0xFFFFFFFA and seen_difat <= difat_count:  # larger files chain on
        offset = (first_difat + 1) * size
        entries = struct.unpack_from(f"<{size // 4}I", data, offset)
        fat_sectors += [s for s in entries[:-1] if s < 0xFFFFFFFA]
        first_difat = entries[-1]
        seen_difat += 1
    fat: list[int] = []
    for sector in fat_sectors[:fat_count]:
        fat += struct.unpack_from(f"<{size // 4}I", data, (sector + 1) * size)
    names: list[str] = []
    sector, visited = first_directory, set()
    while sector < 0xFFFFFFFA:
        if sector in visited or sector >= len(fat):
            raise ValueError("directory chain")
        visited.add(sector)
        base = (sector + 1) * size
        for start in range(base, base + size, 128):
            entry = data[start:start + 128]
            if len(entry) < 128:
                raise ValueError("truncated directory")
            length, = struct.unpack_from("<H", entry, 64)
            if entry[66] in (1, 2, 5) and 2 <= length <= 64:
                names.append(entry[:length - 2].decode("utf-16-le", "replace"))
        sector = fat[sector]
    return names


def _ole_kind(source: IO[bytes]) -> FileKind:
    source.seek(0)
    data = source.read()
    try:
        names = {name.lower() for name in _ole_directory_names(data)}
    except (ValueError, struct.error, IndexError):
        raise _refuse(_("a damaged compound document")) from None
    if names & _OLE_MACRO_NAMES:
        raise _refuse(_("an office document with macros"))
    for stream, kind in _OLE_STREAMS.items():
        if stream in names:
            return kind
    raise _refuse(_("a compound file that is no Word, Excel or PowerPoint document"))


def _decode_text(data: bytes) -> str | None:
    if b"\0" in data:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _looks_like_markup_or_program(text: str) -> bool:
    if _MARKUP_START.match(text):
        return True
    lowered = text[:100_000].lower()
    return any(marker in lowered for marker in _MARKUP_INSIDE)


def _text_kind(source: IO[bytes]) -> FileKind:
    source.seek(0)
    text = _decode_text(source.read())
    if text is None:
        raise _refuse(_("a file of an unknown type"))
    if _CONTROL_CHARACTERS.search(text):
        raise _refuse(_("a file of an unknown type"))
    if _looks_like_markup_or_program(text):
        raise _refuse(_("a web page, image markup (SVG), XML or a script"))
    return FileKind.TEXT


def sniff(source: IO[bytes]) -> FileKind:
    """The kind of file ``source`` holds (read from its start), or ``FileRefused``."""
    source.seek(0)
    head = source.read(_SNIFF_BYTES)
    if not head:
        raise FileRefused(_("The file is empty."))
    kind = _sniff_magic(head)
    if kind is not None:
        return kind
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(source)
    if head.startswith(_OLE_MAGIC):
        return _ole_kind(source)
    if head.startswith((b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")):
        raise _refuse(_("a program"))
    return _text_kind(source)


# --- images --------------------------------------------------------------------------------

def max_image_pixels() -> int:
    return int(settings.HOTLINE_MAX_IMAGE_PIXELS)


def _too_large() -> FileRefused:
    return FileRefused(_("The image has more than %(limit)d million pixels; send a smaller one.")
                       % {"limit": max_image_pixels() // 1_000_000})


def reencode_image(source: IO[bytes], kind: FileKind) -> bytes:
    """The image's pixels, upright, in the same format, with no metadata at all."""
    limit = max_image_pixels()
    source.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns at its global limit; ours is per call and an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=[_PIL_FORMATS[kind]]) as image:
                width, height = image.size
                if width * height > limit or width <= 0 or height <= 0:
                    raise _too_large()
                image.seek(0)  # the first frame of an animation
                image.load()
                upright = ImageOps.exif_transpose(image)
                return _pixels_only(upright, kind)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            struct.error) as exc:
        if isinstance(exc, FileRefused):
            raise
        raise FileRefused(_("The image is damaged and cannot be read.")) from None


def _pixels_only(image: Image.Image, kind: FileKind) -> bytes:
    """A new image built from the pixel data alone (no ``info``: no EXIF, XMP, ICC, text)."""
    mode = image.mode
    save: dict[str, Any] = {}
    if kind == FileKind.JPEG:
        if mode not in ("L", "RGB", "CMYK"):
            image, mode = image.convert("RGB"), "RGB"
        save = {"quality": 90, "optimize": True}
    elif kind == FileKind.WEBP:
        if mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in mode or "transparency" in image.info else "RGB")
            mode = image.mode
        save = {"quality": 90}
    elif mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        image, mode = image.convert("RGBA"), "RGBA"
    if kind == FileKind.GIF and mode != "P":
        image = image.convert("RGBA").quantize() if "A" in mode else image.convert("P")
        mode = "P"
    clean = Image.frombytes(mode, image.size, image.tobytes())
    if mode == "P":
        palette = image.getpalette()
        if palette is not None:
            clean.putpalette(palette)
        transparency = image.info.get("transparency")
        if isinstance(transparency, (int, bytes)):
            save["transparency"] = transparency
    out = io.BytesIO()
    clean.save(out, format=_PIL_FORMATS[kind], **save)
    return out.getvalue()


def inspect_upload(source: IO[bytes]) -> CheckedFile:
    """Judge an upload by its content: the kind, and for images the re-encoded bytes."""
    kind = sniff(source)
    content = reencode_image(source, kind) if kind in IMAGE_KINDS else None
    source.seek(0)
    return CheckedFile(kind, content)
