"""Who may open which page: the access checks every face's pages share.

Pages only decide what to show; the services decide what is allowed (role and scope) and raise
``ServiceError`` otherwise. The decorators here keep users out of pages that are not theirs.

Every page declares who may open it (``hotline.core.rules``): ``staff_required`` (every staff
role), ``role_required(check, roles=...)`` (those roles, then ``check``), ``public_page``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django_htmx.middleware import HtmxDetails

from hotline.core.roles import Role
from hotline.core.rules import PUBLIC, declare, roles_rule
from hotline.directory.models import User


class PortalRequest(HttpRequest):
    """A request as the middleware leaves it (for type checkers): htmx details attached."""

    htmx: HtmxDetails


class StaffRequest(PortalRequest):
    """A request that passed ``staff_required``: the user is logged-in staff."""

    user: User  # type: ignore[assignment]


View = Callable[..., HttpResponseBase]

# Every role that works on pages: the system account is for the worker, not for pages.
STAFF_ROLES = frozenset(r.value for r in Role if r != Role.SYSTEM)
STAFF_RULE = roles_rule(STAFF_ROLES, "logged-in staff")


def staff_required(view: View) -> View:
    """Logged-in, active staff (the system account is for the worker, not for pages)."""

    @login_required
    @wraps(view)
    def wrapper(request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not STAFF_RULE.admits(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return declare(wrapper, STAFF_RULE)


def role_required(check: Callable[[Any], bool], *,
                  roles: Iterable[str] | None = None) -> Callable[[View], View]:
    """Staff whose role is in ``roles`` and for whom ``check`` holds (it may look at the unit).
    Without ``roles`` the page still works but declares no rule (the endpoint-rules test names
    it): say which roles the check lets through."""
    rule = roles_rule(roles, "role_required") if roles is not None else None

    def decorator(view: View) -> View:
        @staff_required
        @wraps(view)
        def wrapper(request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if rule is not None and not rule.admits(request.user):
                raise PermissionDenied
            if not check(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return declare(wrapper, rule)

    return decorator


def public_page(view: View) -> View:
    """A page anyone may open, logged in or not (login, the citizens' status page, the public
    knowledge base). The view itself decides what an anonymous visitor sees."""
    return declare(view, PUBLIC)
