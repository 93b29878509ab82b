"""No endpoint without a rule: every page view and every API operation declares who may use it.

A rule is either the set of roles an endpoint admits (superusers are always admitted) or
``PUBLIC`` (anyone, logged in or not: the login page, the citizens' status page, the public
knowledge base). The declaration is also the gate: the decorators below refuse every role the
rule does not name, so what an endpoint declares is what it enforces, and the tests
(``tests/security/test_endpoint_rules.py``) read the declarations to try every fixture user
against every endpoint. A view or operation that declares nothing fails that test by name.

How to declare
- Pages (``hotline.web.access``): ``@staff_required`` admits every staff role (not the
  system account); ``@role_required(check, roles=...)`` admits ``roles`` and then asks
  ``check`` (which may look at the unit too); ``@public_page`` marks a page anyone may open.
  A view with nothing of these (a class-based view from Django, say) is wrapped where it is
  routed: ``path("login/", public_page(LoginView.as_view()))``. ``role_required(check)``
  without ``roles`` still works, but the page has no rule and the test names it.
- API operations (django-ninja, ``hotline.api.rules``): below the router's decorator,
  ``@allow(*roles)``, ``@allow(*ANY_ACCOUNT)`` for every account with credentials (the
  services narrow by scope), or ``@public_operation`` for operations with ``auth=None``. The
  API applies the rule to every operation (403 for other roles) and writes it into the
  OpenAPI document as ``x-roles`` (or ``x-public: true``).
- The Django admin (``/admin/``) keeps its own checks (``is_staff`` and model permissions):
  the test treats the whole admin site as one declared rule, ``ADMIN_SITE``.

This module knows no domain: roles are their string values (``hotline.core.roles.Role``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

ATTRIBUTE = "access_rule"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Rule:
    """Who may use an endpoint: ``roles`` (plus superusers, unless ``superusers`` is False:
    the audit log is the audit administrator's alone, 三员分立), or anyone when ``public``."""

    roles: frozenset[str] = frozenset()
    public: bool = False
    note: str = ""
    superusers: bool = True
    refusal: str = ""  # what a refused caller is told, when the generic message says too little

    def admits(self, user: Any) -> bool:
        if self.public:
            return True
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if not getattr(user, "is_active", False):
            return False
        if user.is_superuser and self.superusers:
            return True
        return bool(user.role in self.roles)


PUBLIC = Rule(public=True, note="anyone, logged in or not")
ADMIN_SITE = Rule(note="the Django admin: is_staff accounts, with the admin's model permissions")


def roles_rule(roles: Iterable[str], note: str = "", *, superusers: bool = True,
               refusal: str = "") -> Rule:
    found = frozenset(str(r) for r in roles)
    if not found:
        raise ValueError("a rule names at least one role (or use PUBLIC)")
    return Rule(roles=found, note=note, superusers=superusers, refusal=refusal)


def declare(view: F, rule: Rule | None) -> F:
    """Record ``rule`` on ``view`` (None removes a rule a wrapped view carried along: a view
    whose gate is not known must not inherit the inner one's)."""
    setattr(view, ATTRIBUTE, rule)
    return view


def rule_of(view: Any) -> Rule | None:
    """The rule a view or operation function declares, or None."""
    found = getattr(view, ATTRIBUTE, None)
    return found if isinstance(found, Rule) else None
