"""How API callers prove who they are.

- Outside systems send ``Authorization: Bearer <token>`` (tokens from ``manage.py issue_token``).
- The project's own pages use the browser session; django-ninja's SessionAuth enforces CSRF on
  unsafe methods. A request with no logged-in session is simply not authenticated by it (so the
  caller gets 401, not a CSRF 403).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from hotline.api.tokens import user_for_token
from hotline.directory.models import User


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        return user_for_token(token.strip())


class SessionCsrfAuth(SessionAuth):
    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        return super().__call__(request)


def actor(request: HttpRequest) -> User:
    """The authenticated user of an API request."""
    user = request.auth  # type: ignore[attr-defined]
    if not isinstance(user, User):  # pragma: no cover - ninja refuses unauthenticated calls
        raise TypeError("request is not authenticated")
    return user


AUTH = [TokenAuth(), SessionCsrfAuth()]
