"""Where the catalogue sends an order: the lead department and co-handlers for a category in a
district (the district's own route first, else the category's default route)."""

from __future__ import annotations

from hotline.directory.models import CategoryRoute, Unit


def route_for(category_id: int | None, district_id: int | None) -> tuple[Unit, list[Unit]] | None:
    """(lead unit, co-handling units), or None when the category has no route."""
    if category_id is None:
        return None
    routes = CategoryRoute.objects.filter(category_id=category_id).select_related(
        "lead_unit").prefetch_related("co_units")
    route = routes.filter(district_id=district_id).first() if district_id else None
    route = route or routes.filter(district__isnull=True).first()
    if route is None:
        return None
    return route.lead_unit, list(route.co_units.all())
