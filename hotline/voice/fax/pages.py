"""Fax pages: received T.4/T.6 TIFF pages to one PDF, and a PDF or images to a fax TIFF.

Pillow reads and writes CCITT Group 3/4 TIFF through libtiff. Fax pages are not square
(204 x 98 or 204 x 196 dpi): each page is stretched to square pixels before it goes into the
PDF so it prints at its real size and shape."""

from __future__ import annotations

import io
from collections.abc import Iterable

from PIL import Image, ImageDraw, ImageFont, ImageSequence

FAX_WIDTH = 1728  # pixels across an A4/Letter fax line at 204 dpi
FAX_DPI = (204, 196)  # fine resolution


class FaxPageError(ValueError):
    """The file is not a readable fax image."""


def tiff_to_pdf(tiff: bytes) -> tuple[bytes, int]:
    """Every page of a fax TIFF as one PDF; returns (pdf, number of pages)."""
    try:
        image = Image.open(io.BytesIO(tiff))
        pages = [_square(frame.copy()) for frame in ImageSequence.Iterator(image)]
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise FaxPageError(f"not a fax TIFF: {exc}") from exc
    if not pages:
        raise FaxPageError("the fax has no pages")
    out = io.BytesIO()
    dpi = float(pages[0].info.get("dpi", (FAX_DPI[0], FAX_DPI[0]))[0])
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return out.getvalue(), len(pages)


def _square(page: Image.Image) -> Image.Image:
    x_dpi, y_dpi = (float(v) for v in page.info.get("dpi", FAX_DPI))
    page = page.convert("L")
    if y_dpi and x_dpi and abs(x_dpi - y_dpi) > 1:
        page = page.resize((page.width, round(page.height * x_dpi / y_dpi)))
    page.info["dpi"] = (x_dpi, x_dpi)
    return page


def images_to_fax_tiff(pages: Iterable[Image.Image]) -> bytes:
    """Pages (any images, e.g. a rendered reply) as a bilevel Group 4 TIFF spandsp can send."""
    fax_pages = []
    for page in pages:
        scale = FAX_WIDTH / page.width
        height = round(page.height * scale * FAX_DPI[1] / FAX_DPI[0])
        fax_pages.append(page.convert("L").resize((FAX_WIDTH, height)).convert("1"))
    if not fax_pages:
        raise FaxPageError("nothing to send")
    out = io.BytesIO()
    fax_pages[0].save(out, format="TIFF", save_all=True, append_images=fax_pages[1:],
                      compression="group4", dpi=FAX_DPI)
    return out.getvalue()


FONT_PATHS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc")
PAGE_SIZE = (FAX_WIDTH, 2339)  # A4 at 204 dpi in square pixels; made fine-mode by the TIFF step
MARGIN = 120
FONT_PX = 40
LINE_PX = 60


def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_PATHS:
        try:
            return ImageFont.truetype(path, FONT_PX)
        except OSError:
            continue
    return ImageFont.load_default()  # no CJK font installed: Latin text still prints


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for char in paragraph:
            if font.getlength(line + char) > width and line:
                lines.append(line)
                line = ""
            line += char
        lines.append(line)
    return lines


def text_pages(title: str, text: str) -> list[Image.Image]:
    """A letter's text laid out on A4 fax pages (CJK and Latin; wrapped by width), the title
    and "page n/m" on each page."""
    font = _font()
    lines = _wrap(text, font, PAGE_SIZE[0] - 2 * MARGIN)
    per_page = (PAGE_SIZE[1] - 3 * MARGIN) // LINE_PX - 2
    chunks = [lines[i:i + per_page] for i in range(0, len(lines), per_page)] or [[]]
    pages = []
    for number, chunk in enumerate(chunks, start=1):
        page = Image.new("L", PAGE_SIZE, 255)
        draw = ImageDraw.Draw(page)
        draw.text((MARGIN, MARGIN), title, fill=0, font=font)
        draw.text((PAGE_SIZE[0] - MARGIN - 200, MARGIN), f"{number}/{len(chunks)}", fill=0,
                  font=font)
        for row, line in enumerate(chunk):
            draw.text((MARGIN, MARGIN + (row + 2) * LINE_PX), line, fill=0, font=font)
        pages.append(page)
    return pages
