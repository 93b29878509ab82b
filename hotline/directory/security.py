"""Login security of staff accounts (等保 2.0 level 3): the password policy, who needs a second
factor, password expiry, and the security administrator's writes (unlocking an account or an
address, resetting a second factor, enrolling one).

Throttling itself is django-axes (settings ``AXES_*``) and the second factor django-otp's TOTP
devices; this module holds the hotline's rules around them, so pages and the middleware only
ask. Who may do the security administrator's writes is ``duties.may_change_security``.
"""

from __future__ import annotations

import datetime as dt
import logging
import string
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotline.core import clientaddr
from hotline.core.roles import Role
from hotline.directory.duties import may_change_security
from hotline.directory.models import PasswordHistory, User

log = logging.getLogger(__name__)

# Roles whose accounts can change what others may do or see: they log in with a second factor.
SECOND_FACTOR_ROLES = frozenset({Role.CENTRE_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
# The name of the device a user enrols on the enrolment page (one authenticator per account).
DEVICE_NAME = "authenticator"
# Where a session keeps the time of its user's last activity (the idle timeout).
LAST_ACTIVITY_KEY = "hotline_last_activity"


def client_address(request: HttpRequest) -> str:
    """The address a login attempt is counted against (``hotline.core.clientaddr``: forwarded
    headers believed only from HOTLINE_TRUSTED_PROXIES)."""
    return clientaddr.client_address(request)


# --- the password policy -------------------------------------------------------------------

CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)


def character_classes(password: str) -> int:
    """How many of lower case, upper case, digits and other characters the password uses."""
    found = sum(1 for chars in CLASSES if any(ch in chars for ch in password))
    if any(not any(ch in chars for chars in CLASSES) for ch in password):
        found += 1
    return found


class CharacterClassesValidator:
    """At least ``min_classes`` of the four classes: lower case, upper case, digits, others."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if character_classes(password) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_few_classes")

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must use at least %(count)d of: lower-case letters, upper-case "
            "letters, digits and other characters.",
            "Your password must use at least %(count)d of: lower-case letters, upper-case "
            "letters, digits and other characters.",
            self.min_classes,
        ) % {"count": self.min_classes}


class PasswordHistoryValidator:
    """Not the current password nor one of the ``keep`` before it. Django calls
    ``password_changed`` after a user with a new password is saved; the history is kept here."""

    def __init__(self, keep: int = 5) -> None:
        self.keep = keep

    def _earlier(self, user: Any) -> list[str]:
        if user is None or not getattr(user, "pk", None) or self.keep <= 0:
            return []
        return list(PasswordHistory.objects.filter(user_id=user.pk)
                    .values_list("password", flat=True)[: self.keep])

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or not getattr(user, "pk", None) or self.keep <= 0:
            return
        current = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
        hashes = ([current] if current else []) + self._earlier(user)
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(self.get_help_text(), code="password_reused")

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or not getattr(user, "pk", None) or self.keep <= 0:
            return
        PasswordHistory.objects.create(user_id=user.pk, password=user.password)
        stale = list(PasswordHistory.objects.filter(user_id=user.pk)
                     .values_list("pk", flat=True)[self.keep:])
        if stale:
            PasswordHistory.objects.filter(pk__in=stale).delete()

    def get_help_text(self) -> str:
        return ngettext(
            "Your password must differ from your last password.",
            "Your password must differ from your last %(count)d passwords.",
            self.keep,
        ) % {"count": self.keep}


def password_expired(user: Any, now: dt.datetime | None = None) -> bool:
    """The password is older than HOTLINE_PASSWORD_MAX_AGE_DAYS (0: passwords never expire).
    An account whose password was never set through ``set_password`` counts from joining."""
    max_days = settings.HOTLINE_PASSWORD_MAX_AGE_DAYS
    if max_days <= 0 or not user.has_usable_password():
        return False
    changed = user.password_changed_at or user.date_joined
    return bool((now or timezone.now()) - changed > dt.timedelta(days=max_days))


@dataclass(frozen=True)
class PolicyInForce:
    """The values the security settings page shows."""

    min_length: int
    min_classes: int
    history: int
    max_age_days: int
    idle_timeout_minutes: int
    failure_limit: int
    cooloff_minutes: int


def policy_in_force() -> PolicyInForce:
    cooloff = settings.AXES_COOLOFF_TIME
    return PolicyInForce(
        min_length=settings.HOTLINE_PASSWORD_MIN_LENGTH,
        min_classes=settings.HOTLINE_PASSWORD_MIN_CLASSES,
        history=settings.HOTLINE_PASSWORD_HISTORY,
        max_age_days=settings.HOTLINE_PASSWORD_MAX_AGE_DAYS,
        idle_timeout_minutes=settings.HOTLINE_IDLE_TIMEOUT_MINUTES,
        failure_limit=settings.AXES_FAILURE_LIMIT,
        cooloff_minutes=int(cooloff.total_seconds() // 60) if cooloff else 0,
    )


# --- the second factor ---------------------------------------------------------------------

def needs_second_factor(user: Any) -> bool:
    """Superusers and the administrators of the three duties log in with a TOTP code."""
    if not (user is not None and user.is_authenticated):
        return False
    return bool(user.is_superuser or user.role in SECOND_FACTOR_ROLES)


def session_login_complete(user: Any, session: Any, now: dt.datetime | None = None) -> bool:
    """True when a session's login is finished and still alive: the second factor entered in
    this session where the user needs one, the password not expired, the session not idle past
    HOTLINE_IDLE_TIMEOUT_MINUTES. The page middleware checks the same for every request; a
    websocket (the desk, the wallboard) asks here once when it opens, since no page middleware
    runs for it."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.models import Device

    if not (user is not None and user.is_authenticated and user.is_active) or session is None:
        return False
    if needs_second_factor(user):
        device = Device.from_persistent_id(session.get(DEVICE_ID_SESSION_KEY) or "")
        if device is None or device.user_id != user.pk or not device.confirmed:
            return False
    if password_expired(user, now):
        return False
    minutes = settings.HOTLINE_IDLE_TIMEOUT_MINUTES
    last = session.get(LAST_ACTIVITY_KEY)
    moment = (now or timezone.now()).timestamp()
    return not (minutes > 0 and isinstance(last, (int, float)) and moment - last > minutes * 60)


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def do_start_enrolment(user: User) -> TOTPDevice:
    """The unconfirmed device of a user without a confirmed one (a fresh key the first time;
    the same key on a reload, so a code from an authenticator already set up still works)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def do_confirm_enrolment(user: User, token: str) -> TOTPDevice | None:
    """Confirm the pending device with a code from the authenticator; None if the code is wrong."""
    with transaction.atomic():
        device = (TOTPDevice.objects.select_for_update()
                  .filter(user=user, confirmed=False).first())
        if device is None or not device.verify_token(token.strip()):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    log.info("second factor enrolled user=%s", user.username)
    return device


def check_second_factor(user: User, token: str) -> TOTPDevice | None:
    """The confirmed device that accepts the code (django-otp throttles repeated failures)."""
    device = confirmed_device(user)
    if device is None:
        return None
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        return locked if locked.verify_token(token.strip()) else None


# --- the security administrator's writes ---------------------------------------------------

def _check_security_admin(actor: Any) -> None:
    if not may_change_security(actor):
        raise PermissionDenied(_("Only the security administrator may change security settings."))


def do_reset_second_factor(actor: Any, user: User) -> int:
    """Remove a user's authenticator (lost phone): they enrol a new one at their next login."""
    _check_security_admin(actor)
    removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
    log.warning("second factor reset user=%s by=%s", user.username, actor.username)
    return removed


def do_unlock(actor: Any, *, username: str | None = None, ip_address: str | None = None) -> int:
    """Lift a lockout of an account or of a client address (its failed attempts are removed)."""
    from axes.utils import reset

    _check_security_admin(actor)
    if not username and not ip_address:
        return 0
    count = int(reset(username=username or None, ip=ip_address or None))
    log.warning("login lockout lifted username=%s ip=%s by=%s", username, ip_address,
                actor.username)
    return count
