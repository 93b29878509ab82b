"""Issuing, checking and revoking API tokens for outside systems (``do_*`` write).

The token is shown once when issued; only its SHA-256 is stored, so a leaked database does not
leak working tokens. ``last_used_at`` is written at most once a minute per token: a busy partner
system must not turn every read into a write.

A valid token's user (with its unit) is kept in this process's reference cache
(``hotline.core.refcache``), so a busy partner's requests cost no look-up. Revoking a token, or
saving or deleting any token, user or unit, empties that cache in this process at once; other
processes drop their entries within ``HOTLINE_REFERENCE_CACHE_SECONDS`` (default 5): that is how
long a revoked token or a deactivated account can still be accepted by another worker.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from hotline.api.models import ApiToken, hash_token
from hotline.core.errors import InvalidInput
from hotline.core.refcache import RefCache
from hotline.directory.models import User

LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class _Valid:
    token_id: int
    user: User  # with its unit; handed out as a copy
    last_used_at: dt.datetime | None


TOKENS: RefCache[_Valid] = RefCache("api tokens")


def invalidate_tokens(**_kwargs: object) -> None:
    """Forget every cached token (a token, user or unit changed)."""
    TOKENS.invalidate()


def do_issue_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the stored row and the secret (shown once)."""
    name = (name or "").strip() or "api"
    if len(name) > 64:
        raise InvalidInput("the token name must be at most 64 characters", field="name")
    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(user=user, name=name, key_hash=hash_token(secret))
    return token, secret


def do_revoke_token(token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk).update(revoked=True)
    token.revoked = True
    invalidate_tokens()


def _load(key_hash: str) -> _Valid | None:
    token = (
        ApiToken.objects.select_related("user", "user__unit")
        .filter(key_hash=key_hash, revoked=False)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    return _Valid(token.pk, token.user, token.last_used_at)


def user_for_token(secret: str, *, now: dt.datetime | None = None) -> User | None:
    """The active user behind a valid, unrevoked token; None for anything else."""
    if not secret or len(secret) > MAX_TOKEN_LENGTH:
        return None
    key_hash = hash_token(secret)
    valid = TOKENS.get(key_hash, lambda: _load(key_hash))
    if valid is None:
        return None
    now = now or timezone.now()
    if valid.last_used_at is None or now - valid.last_used_at >= LAST_USED_RESOLUTION:
        # The condition in the UPDATE keeps concurrent requests from all writing.
        ApiToken.objects.filter(pk=valid.token_id).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        TOKENS.update(key_hash, _Valid(valid.token_id, valid.user, now))
    # A copy: callers may set attributes on their user (permission caches, the OTP device).
    return copy.copy(valid.user)
