"""Finding 8 of issue 10: uploads are judged by their content; photos lose their metadata.

Every sample is made here: real images by Pillow, a minimal PDF, office documents as the zips
and compound files they are, audio headers; and the hostile ones (HTML, SVG, programs,
scripts, archives, macro documents, decompression bombs) under innocent names."""

from __future__ import annotations

import io
import struct
import tracemalloc
import wave
import zipfile
import zlib
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import translation
from openpyxl import Workbook
from PIL import Image

from hotline.core.files import FileKind, FileRefused, inspect_upload, sniff

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pytest_django.fixtures import Settings


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


# --- samples -------------------------------------------------------------------------------

def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (40, 30), mode: str = "RGB",
                **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else 1).save(out, format=fmt, **save)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned, the viewer rotates 90 degrees
    exif[0x010F] = "PhoneMaker"
    exif[0x0131] = "secret-app 1.0"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (39.0, 54.0, 26.5), 3: "E", 4: (116.0, 23.0, 29.0)})
    return image_bytes("JPEG", exif=exif.tobytes(), comment=b"taken at home",
                       icc_profile=b"fake-icc-profile-bytes",
                       xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>where</x:xmpmeta>")


def minimal_pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def zip_of(**members: bytes | str) -> bytes:
    """A zip whose member names are the keywords with ``__`` for ``/`` and ``_`` for ``.``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name.replace("__", "/").replace("_", "."), data)
    return out.getvalue()


def docx() -> bytes:
    return _docx('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
                 {})


def _docx(content_types: str, extra: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("word/document.xml", "<w:document/>")
        for name, data in extra.items():
            archive.writestr(name, data)
    return out.getvalue()


def xlsx() -> bytes:
    out = io.BytesIO()
    book = Workbook()
    book.active.append(["a", 1])
    book.save(out)
    return out.getvalue()


def odt() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


def compound_file(*stream_names: str) -> bytes:
    """A minimal OLE2 compound file ([MS-CFB] version 3): FAT in sector 0, the directory in
    sector 1, one 4096-byte stream per name after it (at the mini-stream cutoff, so no mini
    FAT is needed)."""
    free, end, fat_sector, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    entries = [("Root Entry", 5, 0, end)] + [
        (name, 2, 4096, 2 + 8 * i) for i, name in enumerate(stream_names)]
    assert len(entries) <= 4
    fat = [fat_sector, end]
    for i in range(len(stream_names)):
        first = 2 + 8 * i
        fat += [first + k + 1 for k in range(7)] + [end]
    fat += [free] * (128 - len(fat))
    directory = b""
    for index, (name, kind, size, start) in enumerate(entries):
        encoded = name.encode("utf-16-le") + b"\0\0"
        # Root's child is entry 1; the streams hang off each other's right sibling.
        child = 1 if index == 0 and len(entries) > 1 else no_stream
        right = index + 1 if 0 < index < len(entries) - 1 else no_stream
        directory += (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
                      + struct.pack("<III", no_stream, right, child) + b"\0" * 16 + b"\0" * 4
                      + b"\0" * 16 + struct.pack("<IQ", start, size))
    directory = directory.ljust(512, b"\0")
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<I", 0) + struct.pack("<108I", *([free] * 108)))
    assert len(header) == 512
    streams = b"".join(b"D" * 4096 for _ in stream_names)
    return header + struct.pack("<128I", *fat) + directory + streams


def wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 800)
    return out.getvalue()


def png_claiming(width: int, height: int, rows: bytes = b"\0" * 16) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b""))


# --- what is accepted ----------------------------------------------------------------------

ACCEPTED = {
    "pdf": (minimal_pdf, FileKind.PDF, "application/pdf"),
    "docx": (docx, FileKind.DOCX,
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (xlsx, FileKind.XLSX,
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "odt": (odt, FileKind.ODT, "application/vnd.oasis.opendocument.text"),
    "doc": (lambda: compound_file("WordDocument"), FileKind.DOC, "application/msword"),
    "xls": (lambda: compound_file("Workbook"), FileKind.XLS, "application/vnd.ms-excel"),
    "ppt": (lambda: compound_file("Current User", "PowerPoint Document"), FileKind.PPT,
            "application/vnd.ms-powerpoint"),
    "wav": (wav, FileKind.WAV, "audio/wav"),
    "mp3": (lambda: b"ID3\x04\0\0\0\0\0\0" + b"\xff\xfb\x90\x64" + b"\0" * 400, FileKind.MP3,
            "audio/mpeg"),
    "mp3 frame": (lambda: b"\xff\xfb\x90\x64" + b"\0" * 400, FileKind.MP3, "audio/mpeg"),
    "amr": (lambda: b"#!AMR\n" + b"\x3c" * 32, FileKind.AMR, "audio/amr"),
    "m4a": (lambda: b"\0\0\0\x20ftypM4A \0\0\0\0M4A mp42isom" + b"\0" * 64, FileKind.M4A,
            "audio/mp4"),
    "aac": (lambda: b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\0" * 64, FileKind.AAC, "audio/aac"),
    "ogg": (lambda: b"OggS\0\x02" + b"\0" * 64, FileKind.OGG, "audio/ogg"),
    "utf-8 text": (lambda: "小区停水三天了。\n第二行\t制表\r\n".encode(), FileKind.TEXT, "text/plain"),
    "gb18030 text": (lambda: "小区停水三天了，请尽快处理。".encode("gb18030"), FileKind.TEXT,
                     "text/plain"),
    "text with angle brackets": (lambda: "价格 a < b，投诉 > 3 次".encode(), FileKind.TEXT,
                                 "text/plain"),
}


@pytest.mark.parametrize("label", list(ACCEPTED))
def test_allowed_kinds_are_recognised_by_content(label: str) -> None:
    make, kind, content_type = ACCEPTED[label]
    checked = inspect_upload(io.BytesIO(make()))
    assert checked.kind == kind and checked.content_type == content_type
    assert checked.content is None  # stored as sent


@pytest.mark.parametrize("fmt,kind", [("JPEG", FileKind.JPEG), ("PNG", FileKind.PNG),
                                       ("GIF", FileKind.GIF), ("WEBP", FileKind.WEBP)])
def test_images_are_recognised_and_reencoded_in_their_format(fmt: str, kind: FileKind) -> None:
    checked = inspect_upload(io.BytesIO(image_bytes(fmt)))
    assert checked.kind == kind and checked.content is not None
    with Image.open(io.BytesIO(checked.content)) as again:
        assert again.format == fmt and again.size == (40, 30)


# --- what is refused -----------------------------------------------------------------------

REFUSED = {
    "html as photo.jpg": b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>",
    "html without doctype": b"  <html><body onload=alert(1)>",
    "html after text": "您好\n<script>fetch('/api')</script>".encode(),
    "svg as photo.jpg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
                        b'onload="alert(1)"/>',
    "bare svg": b"<svg onload=alert(1)>",
    "xml": b'<?xml version="1.0"?><note>x</note>',
    "windows program as a.pdf": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 64,
    "linux program": b"\x7fELF\x02\x01\x01\x00" + b"\0" * 64,
    "shell script": b"#!/bin/sh\nrm -rf /\n",
    "php": b"<?php system($_GET['c']); ?>",
    "zip archive": zip_of(readme__txt=b"hello"),
    "macro docx": _docx('<Types><Default ContentType="application/vnd.ms-word.document.'
                        'macroEnabled.main+xml"/></Types>', {"word/vbaProject.bin": b"x"}),
    "installer (compound file without an office stream)": compound_file("\x05SummaryInformation"),
    "macro doc": compound_file("WordDocument", "Macros"),
    "damaged compound file": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 600,
    "nul bytes": b"text\0with nul",
    "random binary": bytes(range(256)) * 8,
    "rar": b"Rar!\x1a\x07\x00" + b"\0" * 64,
    "gzip": b"\x1f\x8b\x08\x00" + b"\0" * 64,
}


@pytest.mark.parametrize("label", list(REFUSED))
def test_everything_else_is_refused_naming_the_allowed_types(label: str) -> None:
    with pytest.raises(FileRefused) as refused:
        inspect_upload(io.BytesIO(REFUSED[label]))
    assert "Allowed are images (JPEG, PNG, GIF, WebP), PDF" in refused.value.message


def test_a_broken_image_is_refused() -> None:
    with pytest.raises(FileRefused, match="damaged"):
        inspect_upload(io.BytesIO(b"\xff\xd8\xff\xe0 not really a jpeg"))
    with pytest.raises(FileRefused, match="damaged"):
        inspect_upload(io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4))


# --- metadata ------------------------------------------------------------------------------

def test_a_jpeg_loses_exif_gps_xmp_icc_and_comment_and_is_turned_upright() -> None:
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as before:  # the sample really carries them
        assert before.getexif().get_ifd(0x8825)[2] == (39.0, 54.0, 26.5)
        assert {"icc_profile", "comment", "xmp"} <= set(before.info)
    checked = inspect_upload(io.BytesIO(original))
    assert checked.kind == FileKind.JPEG
    clean = checked.content
    assert clean is not None
    with Image.open(io.BytesIO(clean)) as after:
        assert after.size == (30, 40)  # the orientation was applied, then dropped
        assert not after.getexif() and "exif" not in after.info
        assert not {"icc_profile", "comment", "xmp"} & set(after.info)
    for secret in (b"Exif", b"PhoneMaker", b"secret-app", b"taken at home", b"fake-icc",
                   b"xmpmeta"):
        assert secret not in clean


def test_png_text_chunks_and_exif_and_trailing_data_are_dropped() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "home address")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    original = image_bytes("PNG", mode="RGBA", size=(8, 8), pnginfo=info, exif=exif.tobytes())
    original += b"<script>hidden after IEND</script>"
    clean = inspect_upload(io.BytesIO(original)).content
    assert clean is not None
    assert b"home address" not in clean and b"PhoneMaker" not in clean
    assert b"<script>" not in clean
    with Image.open(io.BytesIO(clean)) as after:
        assert after.mode == "RGBA" and not after.text  # type: ignore[attr-defined]  # PNG only


def test_an_animated_gif_keeps_its_first_frame_and_its_transparency() -> None:
    frames = [Image.new("P", (10, 10), i) for i in (3, 7)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], transparency=3,
                   comment=b"gif comment")
    clean = inspect_upload(io.BytesIO(out.getvalue())).content
    assert clean is not None
    assert b"gif comment" not in clean
    with Image.open(io.BytesIO(clean)) as after:
        assert after.format == "GIF" and getattr(after, "n_frames", 1) == 1
        pixel = after.convert("RGBA").getpixel((0, 0))
        assert isinstance(pixel, tuple) and pixel[3] == 0  # still transparent


def test_webp_exif_is_dropped() -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    clean = inspect_upload(io.BytesIO(image_bytes("WEBP", exif=exif.tobytes()))).content
    assert clean is not None
    assert b"PhoneMaker" not in clean


# --- bombs ---------------------------------------------------------------------------------

def test_a_png_claiming_ten_billion_pixels_is_refused_without_decoding() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(FileRefused, match="more than 40 million pixels"):
            inspect_upload(io.BytesIO(png_claiming(100_000, 100_000)))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024


def test_a_real_decompression_bomb_is_refused(settings: Settings) -> None:
    settings.HOTLINE_MAX_IMAGE_PIXELS = 1_000_000
    side = 2000  # 4 million pixels of black, a few KB compressed
    bomb = png_claiming(side, side, rows=(b"\0" + b"\0" * side) * side)
    assert len(bomb) < 50_000
    with pytest.raises(FileRefused, match="more than 1 million pixels"):
        inspect_upload(io.BytesIO(bomb))
    settings.HOTLINE_MAX_IMAGE_PIXELS = 5_000_000
    assert inspect_upload(io.BytesIO(bomb)).kind == FileKind.PNG  # under the limit it is fine


def test_display_names_follow_the_content() -> None:
    jpeg = inspect_upload(io.BytesIO(image_bytes("JPEG")))
    assert jpeg.display_name("现场照片.JPEG") == "现场照片.JPEG"
    assert jpeg.display_name("photo.exe") == "photo.jpg"
    assert jpeg.display_name("photo") == "photo.jpg"
    pdf = inspect_upload(io.BytesIO(minimal_pdf()))
    assert pdf.display_name("invoice.html") == "invoice.pdf" and pdf.extension == ".pdf"


def test_empty_is_refused() -> None:
    with pytest.raises(FileRefused, match="empty"):
        sniff(io.BytesIO(b""))
