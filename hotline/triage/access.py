"""Who may ask for suggestions and who manages the classifier."""

from __future__ import annotations

from typing import Any

from hotline.core.roles import Role
from hotline.orders.lifecycle import CENTRE_DESK, CENTRE_SUPERVISION


def may_suggest(user: Any) -> bool:
    """Whoever registers and categorises orders: the centre's desk (and sub-centre agents)."""
    return bool(user.is_authenticated and (user.is_superuser or user.role in CENTRE_DESK))


def may_see_models(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.role in CENTRE_SUPERVISION))


def may_manage_models(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.role == Role.CENTRE_ADMIN))
