"""Districts and categories by code, from the per-process reference cache
(``hotline.core.refcache``: a write in this process takes effect at once, in other processes
within ``HOTLINE_REFERENCE_CACHE_SECONDS``). Every new work order looks both up; they change a
few times a year."""

from __future__ import annotations

import copy

from hotline.core.refcache import RefCache
from hotline.directory.models import Category, District

DISTRICTS: RefCache[District] = RefCache("districts")
ACTIVE_CATEGORIES: RefCache[Category] = RefCache("active categories")


def district_by_code(code: str) -> District | None:
    found = DISTRICTS.get(code, lambda: District.objects.filter(code=code).first())
    return copy.copy(found) if found is not None else None


def active_category_by_code(code: str) -> Category | None:
    """The active category with this code; None for an unknown or retired one."""
    found = ACTIVE_CATEGORIES.get(
        code, lambda: Category.objects.filter(code=code, active=True).first())
    return copy.copy(found) if found is not None else None


def invalidate_districts(**_kwargs: object) -> None:
    DISTRICTS.invalidate()


def invalidate_categories(**_kwargs: object) -> None:
    ACTIVE_CATEGORIES.invalidate()
