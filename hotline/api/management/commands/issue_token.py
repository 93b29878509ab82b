"""``manage.py issue_token <username> [--name NAME]``: print a new API token, once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.api.tokens import do_issue_token
from hotline.core.errors import ServiceError
from hotline.directory.models import User


class Command(BaseCommand):
    help = "Issue an API token for a user and print it (it is shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="api", help="what the token is for (max 64)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user {options['username']!r}")
        if not user.is_active:
            raise CommandError(f"user {user.username!r} is not active")
        try:
            token, secret = do_issue_token(user, options["name"])
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"token {token.pk} ({token.name}) for {user.username}; store it now:")
        self.stdout.write(secret)
