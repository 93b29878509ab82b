"""A JSON 404 for every unknown path under /api/v1/ (Django's own 404 page is HTML). Added as
the last router so it never shadows a real endpoint."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from hotline.api.rules import public_operation
from hotline.core.errors import NotFound

router = Router()


@router.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None,
                      include_in_schema=False, url_name="not_found")
@public_operation
def not_found(request: HttpRequest, rest: str) -> None:
    raise NotFound("no such endpoint; see /api/v1/docs")
