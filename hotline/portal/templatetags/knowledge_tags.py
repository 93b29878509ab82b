from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from hotline.knowledge.richtext import sanitise_html
from hotline.knowledge.services import authored_unit_ids, is_reviewer

register = template.Library()


@register.filter
def kb_author(user: Any) -> bool:
    return bool(user.is_authenticated and authored_unit_ids(user) != [])


@register.filter
def kb_reviewer(user: Any) -> bool:
    return is_reviewer(user)


STATE_BADGES = {"draft": "badge-muted", "submitted": "badge-wait", "published": "badge-work",
                "retired": "badge-done"}


@register.filter
def kb_state_badge(state: str) -> str:
    return STATE_BADGES.get(state, "badge-muted")


@register.filter
def kb_html(body: str) -> SafeString:
    """An entry body for output. Bodies are sanitised when written; sanitising again here means
    a row that reached the table another way (a bulk load, a restore) still cannot inject."""
    return mark_safe(sanitise_html(body or ""))  # noqa: S308 - allow-listed tags only
