"""The three separated administrative duties (三员分立, 等保 2.0 level 3).

No one account may hold two of them:
- the system administrator changes the directory (units, staff, catalogue, calendar): centre
  administrators and superusers;
- the security administrator changes security settings (password and lockout policy, unlocking
  accounts, resetting a second factor): security administrators only;
- the audit administrator reads the audit and access logs: audit administrators only.

A superuser is a system administrator and nothing more: Django's flag must not open the security
settings or the logs, or one account would hold every duty. Every page, endpoint and admin class
that touches one of these asks the function here, so the rule lives in one place.
"""

from __future__ import annotations

from typing import Any

from hotline.core.roles import Role


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def may_change_directory(user: Any) -> bool:
    if not _active(user):
        return False
    if user.role in (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN):
        return False
    return bool(user.is_superuser or user.role == Role.CENTRE_ADMIN)


def may_change_security(user: Any) -> bool:
    return _active(user) and user.role == Role.SECURITY_ADMIN and not user.is_superuser


def may_read_audit_log(user: Any) -> bool:
    return _active(user) and user.role == Role.AUDIT_ADMIN and not user.is_superuser


def duties_of(user: Any) -> set[str]:
    """The duties an account holds, by name (a test asserts no account holds two)."""
    found = set()
    if may_change_directory(user):
        found.add("directory")
    if may_change_security(user):
        found.add("security")
    if may_read_audit_log(user):
        found.add("audit")
    return found
