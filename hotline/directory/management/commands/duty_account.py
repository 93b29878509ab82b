"""``manage.py duty_account NAME --duty security|audit``: make (or reset) the account of the
security or the audit administrator (三员分立). These accounts are out of reach of the directory's
admin pages, so they are made at the server's console. The password is asked for (or read from
HOTLINE_DUTY_PASSWORD for scripted installs) and must pass the password policy; resetting an
account also removes its second factor, so the holder enrols a new authenticator at next login.
"""

from __future__ import annotations

import getpass
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotline.core.roles import Role
from hotline.directory.models import Unit, UnitKind, User

DUTIES = {"security": Role.SECURITY_ADMIN, "audit": Role.AUDIT_ADMIN}


class Command(BaseCommand):
    help = "Make or reset the security or audit administrator's account (三员分立)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--duty", choices=sorted(DUTIES), required=True)
        parser.add_argument("--name", default="", help="display name")

    def handle(self, *args: Any, **options: Any) -> None:
        role = DUTIES[options["duty"]]
        username = options["username"]
        user = User.objects.filter(username=username).first()
        if user is not None and (user.is_superuser or user.role != role):
            raise CommandError(f"{username} exists with another role; choose a new name")
        password = settings.HOTLINE_DUTY_PASSWORD or self._ask()
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        with transaction.atomic():
            if user is None:
                centre = Unit.objects.filter(kind=UnitKind.CENTRE).first()
                user = User(username=username, role=role, unit=centre,
                            display_name=options["name"] or username)
            user.is_staff = user.is_superuser = False
            user.set_password(password)
            user.save()
            removed, _ = TOTPDevice.objects.filter(user=user).delete()
        self.stdout.write(f"{username}: {role.label}; password set"
                          + ("; second factor removed" if removed else ""))

    def _ask(self) -> str:
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the passwords differ")
        return first
