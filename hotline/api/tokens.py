"""Issuing, checking and revoking API tokens for outside systems (``do_*`` write).

The token is shown once when issued; only its SHA-256 is stored, so a leaked database does not
leak working tokens. ``last_used_at`` is written at most once a minute per token: a busy partner
system must not turn every read into a write.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from hotline.api.models import ApiToken, hash_token
from hotline.core.errors import InvalidInput
from hotline.directory.models import User

LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
MAX_TOKEN_LENGTH = 200


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


def user_for_token(secret: str, *, now: dt.datetime | None = None) -> User | None:
    """The active user behind a valid, unrevoked token; None for anything else."""
    if not secret or len(secret) > MAX_TOKEN_LENGTH:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__unit")
        .filter(key_hash=hash_token(secret), revoked=False)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # The condition in the UPDATE keeps concurrent requests from all writing.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
    return token.user
