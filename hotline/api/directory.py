"""Read-only directory data clients need to fill in orders: categories, units, districts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from hotline.api.rules import ANY_ACCOUNT, allow
from hotline.api.schemas import CategoryOut, DistrictOut, ErrorOut, UnitOut
from hotline.directory.models import Category, District, Unit

router = Router(tags=["directory"])


def _category(c: Category, parent_codes: dict[int, str]) -> dict[str, Any]:
    return {
        "code": c.code, "name": c.name, "level": c.level,
        "parent": parent_codes.get(c.parent_id) if c.parent_id else None,
        "accepted_types": list(c.accepted_types or []), "active": c.active,
    }


@router.get("/categories", response={200: list[CategoryOut], 401: ErrorOut, 422: ErrorOut},
            url_name="categories",
            summary="The category catalogue (事项目录); ?tree=true nests children")
@allow(*ANY_ACCOUNT)
def categories(request: HttpRequest, tree: bool = False,
               include_inactive: bool = False) -> list[dict[str, Any]]:
    rows = list(Category.objects.order_by("level", "code"))
    codes = {c.pk: c.code for c in rows}
    if not include_inactive:
        rows = [c for c in rows if c.active]
    items = {c.pk: _category(c, codes) for c in rows}
    if not tree:
        return sorted(items.values(), key=lambda item: item["code"])
    roots: list[dict[str, Any]] = []
    for c in rows:
        node = items[c.pk]
        node.setdefault("children", [])
        parent = items.get(c.parent_id) if c.parent_id else None
        if parent is None:
            roots.append(node)
        else:
            parent.setdefault("children", []).append(node)
    return roots


@router.get("/units", response={200: list[UnitOut], 401: ErrorOut, 422: ErrorOut}, url_name="units",
            summary="Units: the centre, sub-centres, departments and streets")
@allow(*ANY_ACCOUNT)
def units(request: HttpRequest, include_inactive: bool = False) -> list[dict[str, Any]]:
    qs = Unit.objects.select_related("parent", "district").order_by("code")
    if not include_inactive:
        qs = qs.filter(active=True)
    return [
        {
            "code": u.code, "name": u.name, "kind": u.kind,
            "parent": u.parent.code if u.parent else None,
            "district": u.district.code if u.district else None,
            "phone": u.phone, "active": u.active,
        }
        for u in qs
    ]


@router.get("/districts", response={200: list[DistrictOut], 401: ErrorOut, 422: ErrorOut},
            url_name="districts", summary="Districts of the city")
@allow(*ANY_ACCOUNT)
def districts(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"code": d.code, "name": d.name} for d in District.objects.order_by("code")]
