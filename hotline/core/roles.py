"""The staff roles. Every domain and face checks them (access rules, scopes, pages), so they
live here rather than with the User model in ``hotline.directory``; migrations spell the
choices out literally, so moving the enum changes no schema."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    MONITOR = "monitor", _("Shift monitor")
    CENTRE_ADMIN = "centre_admin", _("Centre administrator")
    DEPT_HANDLER = "dept_handler", _("Department handler")
    DEPT_ADMIN = "dept_admin", _("Department administrator")
    LEADER = "leader", _("Leader")
    AUDITOR = "auditor", _("Auditor")
    # 三员分立 (等保 level 3): the system administrator is the centre administrator (directory,
    # staff, catalogue); the security administrator changes security settings and unlocks
    # accounts; the audit administrator alone reads the access and audit logs.
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")
    SYSTEM = "system", _("System account")
