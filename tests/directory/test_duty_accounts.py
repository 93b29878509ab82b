"""三员分立 in the directory's admin: the system administrator keeps staff accounts but cannot
reach the security and audit administrators' accounts (change, password, delete) nor make one;
those are made and reset at the console with ``manage.py duty_account``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotline.core.roles import Role
from hotline.directory.duties import duties_of
from hotline.directory.models import User

if TYPE_CHECKING:
    from django.test import Client
    from pytest_django.fixtures import Settings

    from tests.conftest import City

STRONG = "Kx9-long-enough-Pw"


@pytest.fixture
def admin_client(client: Client, city: City) -> Client:
    city.admin.is_staff = True
    city.admin.save()
    client.force_login(city.admin)
    return client


@pytest.mark.parametrize("who", ["security_admin", "audit_admin"])
def test_the_directory_admin_cannot_change_a_duty_account(admin_client: Client, city: City, who: str) -> None:
    target = getattr(city, who)
    change = reverse("admin:directory_user_change", args=[target.pk])
    password = reverse("admin:auth_user_password_change", args=[target.pk])
    delete = reverse("admin:directory_user_delete", args=[target.pk])
    page = admin_client.get(change)
    assert page.status_code == 200  # seen, read-only
    assert 'name="role"' not in page.content.decode()
    assert admin_client.post(change, {"username": "taken-over", "role": Role.AGENT}).status_code \
        == 403
    assert admin_client.get(password).status_code == 403
    assert admin_client.post(password, {"password1": STRONG, "password2": STRONG}).status_code \
        == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    target.refresh_from_db()
    assert target.username != "taken-over" and not target.check_password(STRONG)


def test_the_directory_admin_cannot_make_a_duty_account(admin_client: Client, city: City) -> None:
    add = reverse("admin:directory_user_add")
    assert Role.SECURITY_ADMIN not in admin_client.get(add).content.decode()
    r = admin_client.post(add, {"username": "mole", "password1": STRONG, "password2": STRONG,
                                "role": Role.AUDIT_ADMIN, "usable_password": "true"})
    assert r.status_code == 200 and not User.objects.filter(username="mole").exists()
    # ... nor turn a colleague into one
    change = reverse("admin:directory_user_change", args=[city.agent.pk])
    assert Role.AUDIT_ADMIN not in admin_client.get(change).content.decode()


def test_the_console_makes_and_resets_duty_accounts(city: City, settings: Settings) -> None:
    settings.HOTLINE_DUTY_PASSWORD = STRONG
    call_command("duty_account", "audit2", "--duty", "audit")
    made = User.objects.get(username="audit2")
    assert made.role == Role.AUDIT_ADMIN and made.check_password(STRONG)
    assert duties_of(made) == {"audit"}
    TOTPDevice.objects.create(user=made, name="authenticator", confirmed=True)
    settings.HOTLINE_DUTY_PASSWORD = STRONG + "-2"
    call_command("duty_account", "audit2", "--duty", "audit")
    made.refresh_from_db()
    assert made.check_password(STRONG + "-2") and not TOTPDevice.objects.filter(user=made).exists()
    with pytest.raises(CommandError):  # an account of another role is not taken over
        call_command("duty_account", city.agent.username, "--duty", "security")
    settings.HOTLINE_DUTY_PASSWORD = "short"
    with pytest.raises(CommandError):  # the password policy applies
        call_command("duty_account", "sec2", "--duty", "security")
