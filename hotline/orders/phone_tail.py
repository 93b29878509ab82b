"""Citizens whose phone ends with some digits, through the ``citizen_phone_reversed`` index.

``phone LIKE '%7950'`` can use no index (every citizen was read: 0.5 s at 1 M orders). Reversed,
the last digits are the first ones, and "starts with" becomes a range a B-tree serves on SQLite
and PostgreSQL. The range's bounds are digits only, so any collation orders them the same way;
the ``startswith`` test after it keeps the result exact whatever the collation does with the
rest of the string.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.functions import Reverse

from hotline.orders.models import Citizen


def _next_prefix(prefix: str) -> str | None:
    """The smallest digit string above every string starting with ``prefix`` ("0599" ->
    "06"); None when there is none ("999")."""
    stripped = prefix.rstrip("9")
    if not stripped:
        return None
    return stripped[:-1] + str(int(stripped[-1]) + 1)


def citizens_with_phone_ending(digits: str) -> QuerySet[Citizen]:
    """Citizens whose phone ends with ``digits`` (digits only)."""
    if not digits.isdigit():
        raise ValueError("a phone's tail is digits only")
    start = digits[::-1]
    citizens = Citizen.objects.alias(phone_reversed=Reverse("phone")).filter(
        phone_reversed__gte=start, phone_reversed__startswith=start)
    upper = _next_prefix(start)
    return citizens if upper is None else citizens.filter(phone_reversed__lt=upper)
