"""Fax pages: received T.4/T.6 TIFF pages to one PDF, and a PDF or images to a fax TIFF.

Pillow reads and writes CCITT Group 3/4 TIFF through libtiff. Fax pages are not square
(204 x 98 or 204 x 196 dpi): each page is stretched to square pixels before it goes into the
PDF so it prints at its real size and shape."""

from __future__ import annotations

import io
from collections.abc import Iterable

from PIL import Image, ImageSequence

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
