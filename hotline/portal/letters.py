"""The assignment letter (交办单/公函) sent with a dispatched order, as a PDF: the centre's
template (``LetterTemplate``, edited in the admin; the built-in text when none is in use)
filled in with the order and rendered by weasyprint with the Noto CJK fonts.

The letter goes to the handling department, so it says of the citizen what a department may
know (``orders.scope``): a 举报 reporter or a confidential citizen is never named, whoever
prints it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.core.errors import Conflict
from hotline.directory.models import OrderType, Unit, UnitKind
from hotline.orders.disclosure import redact_citizen
from hotline.orders.models import Assignment, Order
from hotline.portal.models import PLACEHOLDER_RE, LetterTemplate

DEFAULT_HEADING = "12345政务服务便民热线交办单"
DEFAULT_BODY = """{unit}：

现将市民诉求（受理编号 {number}）转交你单位办理。请于 {sign_deadline} 前签收，并于 {deadline} 前办结答复。

诉求标题：{title}
诉求类别：{category}
所在区域：{district}　{address}
诉求人：{citizen}　联系电话：{phone}

诉求内容：
{text}

协办单位：{co_units}"""
DEFAULT_SIGNATURE = "{centre}　{date}"
WITHHELD = "（依规保密）"


@dataclass(frozen=True)
class Letter:
    heading: str
    paragraphs: list[str]
    signature: str


def current_template() -> LetterTemplate:
    found = LetterTemplate.objects.filter(active=True).order_by("-updated_at").first()
    return found or LetterTemplate(name="default", heading=DEFAULT_HEADING, body=DEFAULT_BODY,
                                   signature=DEFAULT_SIGNATURE)


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def citizen_withheld(order: Order) -> bool:
    """What a department may not know (``scope.citizen_hidden`` for a department's staff)."""
    return bool(order.confidential or order.type == OrderType.REPORT)


def values(order: Order, today: dt.date) -> dict[str, str]:
    """Every placeholder's text for ``order``; the citizen as a department may know them."""
    withheld = citizen_withheld(order)
    citizen = order.citizen
    co = order.assignments.filter(active=True, role=Assignment.Role.CO).select_related("unit")
    return {
        # A reporter's own name and number written into the 举报 are blanked too.
        "number": order.number,
        "title": redact_citizen(order.title, citizen.name, citizen.phone) if withheld
        else order.title,
        "text": redact_citizen(order.text, citizen.name, citizen.phone) if withheld
        else order.text,
        "type": order.get_type_display(),
        "category": " / ".join(order.category.path_names()) if order.category else "—",
        "district": order.district.name if order.district else "—",
        "address": order.address or "",
        "unit": order.lead_unit.name if order.lead_unit else "—",
        "co_units": "、".join(a.unit.name for a in co) or "—",
        "sign_deadline": _when(order.sign_due), "deadline": _when(order.handle_due),
        "citizen": WITHHELD if withheld else (citizen.name or "—"),
        "phone": WITHHELD if withheld else (citizen.phone or "—"),
        "date": f"{today.year}年{today.month}月{today.day}日",
        "centre": _centre_name(),
    }


def _centre_name() -> str:
    centre = Unit.objects.filter(kind=UnitKind.CENTRE, parent=None).order_by("pk").first()
    return centre.name if centre is not None else "12345政务服务便民热线"


def _substitute(text: str, filled: dict[str, str]) -> str:
    """{name} -> its value; anything else in braces stays as typed. Not ``str.format``: a
    template is typed in the admin, and a format spec such as {text:>99999999} would make the
    letter as large as it says."""
    return PLACEHOLDER_RE.sub(lambda m: filled.get(m[1], m[0]), text)


def fill(template: LetterTemplate, order: Order, today: dt.date) -> Letter:
    filled = values(order, today)
    body = _substitute(template.body.replace("\r\n", "\n"), filled)
    paragraphs = [part.strip("\n") for part in body.split("\n\n") if part.strip()]
    return Letter(_substitute(template.heading, filled), paragraphs,
                  _substitute(template.signature, filled))


def letter_pdf(order: Order, now: dt.datetime | None = None) -> bytes:
    """The letter's PDF; ``Conflict`` for an order no unit holds yet (nothing to assign)."""
    if order.lead_unit_id is None:
        raise Conflict(_("The order has not been dispatched: there is no unit to write to."))
    from weasyprint import HTML  # imported here: it loads Pango, which pages never need

    today = timezone.localtime(now or timezone.now()).date()
    letter = fill(current_template(), order, today)
    html = render_to_string("portal/letter_pdf.html", {"letter": letter, "order": order})
    pdf: bytes = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
    return pdf


def file_name(order: Order) -> str:
    """The acceptance number only: never the citizen, the title or the unit."""
    return f"jiaobandan-{order.number}.pdf"
