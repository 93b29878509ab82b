"""Who may call each API operation (``hotline.core.rules``): declared on the operation's
function, applied by the API to every operation, written into the OpenAPI document.

    @router.get("/things", ...)
    @allow(Role.MONITOR, Role.CENTRE_ADMIN)   # or @allow(*ANY_ACCOUNT), or @public_operation
    def things(request): ...

``enforce`` is installed on the API (``api.add_decorator(enforce, mode="view")``): a caller
whose role the rule does not name gets 403 when authenticated, before the body is parsed; an
operation that declares nothing refuses everyone (and tests/security/test_endpoint_rules.py
names it). ``document`` adds
``x-roles`` (or ``x-public: true``) to each operation of the OpenAPI document.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest

from hotline.core.errors import Forbidden
from hotline.core.roles import Role
from hotline.core.rules import PUBLIC, Rule, declare, roles_rule, rule_of

F = TypeVar("F", bound=Callable[..., Any])

# Every account that can hold credentials, the platform's own included: the services narrow
# what each one sees (scope) and does (the lifecycle's roles).
ANY_ACCOUNT = tuple(r.value for r in Role)
RULE_REFUSAL = "your role may not use this endpoint"


def allow(*roles: str, superusers: bool = True, refusal: str = "") -> Callable[[F], F]:
    """Admit ``roles`` (and superusers unless ``superusers=False``); others get 403 with
    ``refusal`` (or the generic RULE_REFUSAL)."""
    rule = roles_rule(roles, "allow", superusers=superusers, refusal=refusal)

    def decorator(view: F) -> F:
        return declare(view, rule)

    return decorator


def public_operation(view: F) -> F:
    """Anyone, with or without credentials (the operation says ``auth=None``)."""
    return declare(view, PUBLIC)


def enforce(run: Callable[..., Any]) -> Callable[..., Any]:
    """Installed as the API's view decorator (``api.add_decorator(enforce, mode="view")``):
    ninja hands over each bound operation's ``run``. The role check joins the operation's
    authentication, so a caller the rule does not admit gets 403 before the body is parsed (a
    refused caller learns nothing from validation errors), and an operation that declares no
    rule refuses every call."""
    operation = getattr(run, "__self__", None)
    if operation is None or not hasattr(operation, "auth_callbacks"):
        raise TypeError("install enforce as the API's first view decorator")
    rule = rule_of(operation.view_func)
    if rule is not None and not rule.public:
        operation.auth_callbacks = [_role_checked(auth, rule) for auth in operation.auth_callbacks]

    @wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if rule is None:
            return operation.api.on_exception(
                request, Forbidden("this endpoint declares no access rule"))
        return run(request, *args, **kwargs)

    return checked


def _role_checked(auth: Any, rule: Rule) -> Any:
    """``auth`` (an authentication callable) that also refuses, with 403, a user the rule does
    not admit. It stays an instance of a class of the same name, because the OpenAPI document
    names its security schemes after the class."""
    base = type(auth)

    def __call__(self: Any, request: HttpRequest) -> Any:
        user = base.__call__(self, request)
        if user and not rule.admits(user):
            raise Forbidden(rule.refusal or RULE_REFUSAL)
        return user

    checked = type(base.__name__, (base,), {"__call__": __call__, "__module__": base.__module__})
    clone = copy.copy(auth)
    clone.__class__ = checked
    return clone


def openapi_fields(rule: Rule | None) -> dict[str, Any]:
    if rule is None:
        return {}
    if rule.public:
        return {"x-public": True}
    return {"x-roles": sorted(rule.roles)}
