"""Where the catalogue sends an order: the lead department and co-handlers for a category in a
district (the district's own route first, else the category's default route)."""

from __future__ import annotations

from django.db.models import Q

from hotline.directory.models import CategoryRoute, Unit

Route = tuple[Unit, list[Unit]]


def route_for(category_id: int | None, district_id: int | None) -> Route | None:
    """(lead unit, co-handling units), or None when the category has no route."""
    if category_id is None:
        return None
    return routes_for([category_id], district_id).get(category_id)


def routes_for(category_ids: list[int], district_id: int | None) -> dict[int, Route]:
    """The route of each category that has one, in two queries however many categories."""
    routes = (CategoryRoute.objects.filter(category_id__in=category_ids)
              .filter(Q(district__isnull=True) | Q(district_id=district_id))
              .select_related("lead_unit").prefetch_related("co_units"))
    found: dict[int, Route] = {}
    for route in sorted(routes, key=lambda r: r.district_id is not None):
        # The default route first, so the district's own route (if any) replaces it.
        found[route.category_id] = (route.lead_unit, list(route.co_units.all()))
    return found
