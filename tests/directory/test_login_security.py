"""Issue 10, finding 5: login throttling and lockout (per account and per address), TOTP for
administrators, the password policy, password expiry, the idle timeout and 三员分立."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import struct
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.contrib import admin
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotline.api.tokens import do_issue_token
from hotline.core.roles import Role
from hotline.directory.duties import duties_of
from hotline.directory.models import User
from hotline.directory.security import password_expired

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

    from tests.conftest import City

LOGIN = "/login/"
ADMIN_LOGIN = "/admin/login/"
ORDERS = "/orders/"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def totp(key: bytes, at: dt.datetime, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 computed here, independently of django-otp."""
    counter = int(at.timestamp()) // step
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 10 ** digits
    return f"{code:0{digits}d}"


def log_in(client: Client, username: str, password: str | None = None, *, ip: str = "10.0.0.1",
           path: str = LOGIN, **extra: Any) -> Any:
    return client.post(path, {"username": username, "password": password or "pw-" + username},
                       REMOTE_ADDR=ip, **extra)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def root(db: None) -> User:
    return User.objects.create_superuser("root", password="pw-root", email="")


# --- throttling and lockout ----------------------------------------------------------------

def test_thirty_wrong_passwords_lock_the_account_even_from_fresh_addresses(client: Client, city: City,
                                                                           settings: Settings) -> None:
    answers = [log_in(client, "alice", "wrong", ip=f"10.0.1.{n}").status_code for n in range(30)]
    limit = settings.AXES_FAILURE_LIMIT
    assert answers[: limit - 1] == [200] * (limit - 1)  # "wrong user name or password"
    assert set(answers[limit:]) == {429}
    # The right password from yet another address is refused too, with the reason.
    response = log_in(client, "alice", ip="10.0.2.1")
    assert response.status_code == 429 and not logged_in(client)
    assert "Too many failed logins" in response.content.decode() or "登录失败次数过多" in (
        response.content.decode())
    # Another account from a fresh address is not affected.
    assert log_in(Client(), "monica", ip="10.0.3.1").status_code == 302


def test_thirty_wrong_passwords_from_one_address_lock_the_address(client: Client, city: City) -> None:
    answers = [log_in(client, f"guess{n}", "wrong", ip="10.0.5.5").status_code for n in range(30)]
    assert answers[-1] == 429
    assert log_in(client, "alice", ip="10.0.5.5").status_code == 429 and not logged_in(client)
    other = Client()
    assert log_in(other, "alice", ip="10.0.5.6").status_code == 302 and logged_in(other)


def test_forwarded_headers_do_not_give_a_fresh_address(client: Client, city: City) -> None:
    for n in range(10):
        log_in(client, f"guess{n}", "wrong", ip="10.0.6.6", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    response = log_in(client, "alice", ip="10.0.6.6", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert response.status_code == 429


def test_the_admin_login_is_throttled_too(client: Client, city: City) -> None:
    city.admin.is_staff = True
    city.admin.save()
    for n in range(10):
        log_in(client, "adam", "wrong", ip=f"10.0.7.{n}", path=ADMIN_LOGIN)
    response = log_in(client, "adam", ip="10.0.8.1", path=ADMIN_LOGIN)
    assert response.status_code == 429 and not logged_in(client)


def test_a_lockout_ends_after_the_cool_off(client: Client, city: City, settings: Settings) -> None:
    with time_machine.travel(START, tick=False):
        for n in range(6):
            log_in(client, "alice", "wrong", ip=f"10.0.9.{n}")
        assert log_in(client, "alice", ip="10.0.9.99").status_code == 429
    later = START + settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        assert log_in(client, "alice", ip="10.0.9.99").status_code == 302


def test_api_tokens_are_not_affected_by_a_lockout(client: Client, city: City) -> None:
    _token, secret = do_issue_token(city.agent)
    for n in range(10):
        log_in(client, "alice", "wrong", ip=f"10.0.10.{n}")
    answer = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/districts")
    assert answer.status_code == 200


# --- the second factor ---------------------------------------------------------------------

def _admins(city: City, root: User) -> dict[str, User]:
    city.admin.is_staff = True
    city.admin.save()
    return {"centre_admin": city.admin, "security_admin": city.security_admin,
            "audit_admin": city.audit_admin, "superuser": root}


@pytest.mark.parametrize("who", ["centre_admin", "security_admin", "audit_admin", "superuser"])
def test_administrators_reach_no_page_before_the_second_factor(client: Client, city: City, root: User,
                                                               who: str) -> None:
    user = _admins(city, root)[who]
    response = log_in(client, user.username)
    assert response.status_code == 302 and logged_in(client)
    page = client.get(ORDERS, REMOTE_ADDR="10.0.0.1")
    assert page.status_code == 302 and page["Location"].startswith(reverse("portal:two_factor"))
    assert client.get("/admin/").status_code == 302
    assert client.get(reverse("portal:security_settings")).status_code == 302
    api = client.get("/api/v1/districts")
    assert api.status_code == 403 and api.json()["redirect"].startswith(
        reverse("portal:two_factor"))
    # No device yet: the code page sends them to enrol.
    code_page = client.get(reverse("portal:two_factor"))
    assert code_page.status_code == 302 and "authenticator" in code_page["Location"]


def test_other_staff_need_no_second_factor(client: Client, city: City) -> None:
    log_in(client, "alice")
    assert client.get(ORDERS).status_code == 200


def _secret_on_page(html: str) -> bytes:
    found = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert found, html
    return base64.b32decode(found.group(1).replace(" ", ""))


def test_enrolment_then_login_with_real_codes(client: Client, city: City) -> None:
    enrol_url, code_url = reverse("portal:two_factor_enrol"), reverse("portal:two_factor")
    with time_machine.travel(START, tick=False):
        log_in(client, "selma")
        page = client.get(enrol_url)
        html = page.content.decode()
        assert page.status_code == 200 and "<svg" in html
        key = _secret_on_page(html)
        assert _secret_on_page(client.get(enrol_url).content.decode()) == key  # same on reload
        wrong = client.post(enrol_url, {"token": "000000"})
        assert wrong.status_code == 400 and client.get(ORDERS).status_code == 302
    # django-otp makes a device wait after a failure (1 s, then 2 s, ...): a little later.
    with time_machine.travel(START + dt.timedelta(seconds=5), tick=False):
        right = client.post(enrol_url, {"token": totp(key, START), "next": "/security/"})
        assert right.status_code == 302 and right["Location"] == "/security/"
        assert client.get("/security/").status_code == 200
        assert TOTPDevice.objects.get(user=city.security_admin).confirmed
        client.post(reverse("portal:logout"))
    later = START + dt.timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        log_in(client, "selma")
        # Once enrolled, whoever has the password cannot enrol another authenticator.
        enrol = client.get(enrol_url)
        assert enrol.status_code == 302 and enrol["Location"].startswith(code_url)
        assert client.post(code_url, {"token": "12345x"}).status_code == 400
        assert client.post(code_url, {"token": totp(key, START)}).status_code == 400  # old code
        assert client.get("/security/").status_code == 302
    with time_machine.travel(later + dt.timedelta(seconds=5), tick=False):
        done = client.post(code_url, {"token": totp(key, later)})
        assert done.status_code == 302
        assert client.get("/security/").status_code == 200


def test_demo_administrators_have_authenticators(db: None) -> None:
    from hotline.demo import city as demo

    city = demo.build_directory()
    demo.build_staff(city)
    rows = {username: (key, uri) for username, key, uri in demo.demo_second_factors()}
    assert set(rows) == {"centreadmin", "secadmin", "auditadmin"}
    key, uri = rows["centreadmin"]
    assert uri.startswith("otpauth://totp/") and key in uri


# --- the password policy -------------------------------------------------------------------

@pytest.mark.parametrize("password", ["Sh0rt!pw", "alllowercaseletters", "ALLUPPER12345678",
                                      "12345678901234"])
def test_policy_refuses_short_and_few_class_passwords(city: City, password: str) -> None:
    with pytest.raises(ValidationError):
        validate_password(password, city.agent)


def test_policy_accepts_a_long_three_class_password(city: City) -> None:
    validate_password("Kettle-harbour-42", city.agent)


def test_policy_refuses_the_last_passwords(city: City, settings: Settings) -> None:
    user = city.agent
    keep = settings.HOTLINE_PASSWORD_HISTORY
    passwords = [f"Ferry-boat-{n:02d}x" for n in range(keep + 1)]
    for password in passwords:
        validate_password(password, user)
        user.set_password(password)
        user.save()
    for password in passwords[1:]:  # the current one and the ``keep`` - 1 before it
        with pytest.raises(ValidationError):
            validate_password(password, user)
    validate_password(passwords[0], user)  # older than the history


def test_the_password_change_page_applies_the_policy(client: Client, city: City) -> None:
    client.force_login(city.agent)
    url = reverse("portal:password_change")
    refused = client.post(url, {"old_password": "pw-alice", "new_password1": "short",
                                "new_password2": "short"})
    assert refused.status_code == 400 and "errorlist" in refused.content.decode()
    done = client.post(url, {"old_password": "pw-alice", "new_password1": "Lantern-river-77",
                             "new_password2": "Lantern-river-77"})
    assert done.status_code == 302
    city.agent.refresh_from_db()
    assert city.agent.check_password("Lantern-river-77")
    again = client.post(url, {"old_password": "Lantern-river-77",
                              "new_password1": "Lantern-river-77",
                              "new_password2": "Lantern-river-77"})
    assert again.status_code == 400  # not the current password again


def test_an_expired_password_must_be_changed_before_any_page(client: Client, city: City,
                                                             settings: Settings) -> None:
    settings.HOTLINE_PASSWORD_MAX_AGE_DAYS = 90
    user = city.agent
    User.objects.filter(pk=user.pk).update(
        password_changed_at=timezone.now() - dt.timedelta(days=91))
    user.refresh_from_db()
    assert password_expired(user)
    client.force_login(user)
    page = client.get(ORDERS)
    assert page.status_code == 302 and page["Location"].startswith(
        reverse("portal:password_change"))
    assert client.get(reverse("portal:password_change")).status_code == 200
    client.post(reverse("portal:password_change"), {
        "old_password": "pw-alice", "new_password1": "Compass-north-19",
        "new_password2": "Compass-north-19"})
    assert client.get(ORDERS).status_code == 200
    settings.HOTLINE_PASSWORD_MAX_AGE_DAYS = 0
    User.objects.filter(pk=user.pk).update(password_changed_at=START - dt.timedelta(days=999))
    assert client.get(ORDERS).status_code == 200  # 0: passwords never expire


# --- idle timeout --------------------------------------------------------------------------

def test_idle_sessions_are_logged_out(client: Client, city: City, settings: Settings) -> None:
    settings.HOTLINE_IDLE_TIMEOUT_MINUTES = 30
    with time_machine.travel(START, tick=False):
        client.force_login(city.agent)
        assert client.get(ORDERS).status_code == 200
    with time_machine.travel(START + dt.timedelta(minutes=29), tick=False):
        assert client.get(ORDERS).status_code == 200  # activity: the clock restarts
    with time_machine.travel(START + dt.timedelta(minutes=58), tick=False):
        assert client.get(ORDERS).status_code == 200
    with time_machine.travel(START + dt.timedelta(minutes=89), tick=False):
        response = client.get(ORDERS)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
        assert not logged_in(client)


def test_background_refreshes_do_not_keep_a_session_alive(client: Client, city: City,
                                                          settings: Settings) -> None:
    settings.HOTLINE_IDLE_TIMEOUT_MINUTES = 30
    with time_machine.travel(START, tick=False):
        client.force_login(city.monitor)
        assert client.get(ORDERS).status_code == 200
    with time_machine.travel(START + dt.timedelta(minutes=20), tick=False):
        poll = client.get("/api/v1/districts", HTTP_SEC_FETCH_MODE="cors")
        assert poll.status_code == 200
    with time_machine.travel(START + dt.timedelta(minutes=31), tick=False):
        poll = client.get("/api/v1/districts", HTTP_SEC_FETCH_MODE="cors")
        assert poll.status_code == 401 and not logged_in(client)


# --- 三员分立 --------------------------------------------------------------------------------

def test_no_account_holds_two_duties(city: City, root: User) -> None:
    users = [u for u in vars(city).values() if isinstance(u, User)] + [root]
    for role in (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN):  # superuser flag on the other duties
        users.append(User.objects.create_superuser(f"root-{role}", password="x", role=role))
    assert len(users) >= 15
    for user in users:
        assert len(duties_of(user)) <= 1, user.username
    assert duties_of(root) == {"directory"}
    assert duties_of(city.security_admin) == {"security"}
    assert duties_of(city.audit_admin) == {"audit"}


@pytest.mark.parametrize("who", ["security_admin", "audit_admin"])
def test_security_and_audit_admins_get_nothing_in_the_admin(client: Client, city: City, who: str) -> None:
    user = getattr(city, who)
    user.is_staff = True
    user.is_superuser = True  # even a wrongly ticked flag opens no directory data
    user.save()
    client.force_login(user)
    assert client.get("/admin/").status_code == 302
    assert client.get(reverse("admin:directory_user_changelist")).status_code == 302


def test_superusers_get_no_security_settings_nor_login_records(client: Client, city: City,
                                                               root: User) -> None:
    client.force_login(root)
    assert client.get("/admin/").status_code == 200
    assert client.get(reverse("portal:security_settings")).status_code == 403
    registered = {model._meta.label for model in admin.site._registry}
    assert not registered & {"otp_totp.TOTPDevice", "axes.AccessAttempt", "axes.AccessLog",
                             "axes.AccessFailureLog"}


@pytest.mark.parametrize("who", ["admin", "audit_admin", "agent", "monitor"])
def test_only_the_security_admin_opens_the_security_settings(client: Client, city: City, who: str) -> None:
    client.force_login(getattr(city, who))
    assert client.get(reverse("portal:security_settings")).status_code == 403


def test_security_admin_unlocks_an_account_and_resets_a_second_factor(client: Client, city: City) -> None:
    for n in range(6):
        log_in(Client(), "alice", "wrong", ip=f"10.0.11.{n}")
    assert log_in(Client(), "alice", ip="10.0.12.1").status_code == 429
    TOTPDevice.objects.create(user=city.admin, name="phone", confirmed=True)
    client.force_login(city.security_admin)
    page = client.get(reverse("portal:security_settings"))
    assert page.status_code == 200 and "alice" in page.content.decode()
    bad = client.post(reverse("portal:security_settings"), {"do": "unlock"})
    assert bad.status_code == 400
    done = client.post(reverse("portal:security_settings"),
                       {"do": "unlock", "unlock-username": "alice"})
    assert done.status_code == 302
    assert log_in(Client(), "alice", ip="10.0.12.1").status_code == 302
    unknown = client.post(reverse("portal:security_settings"),
                          {"do": "reset", "reset-username": "nobody"})
    assert unknown.status_code == 400
    reset = client.post(reverse("portal:security_settings"),
                        {"do": "reset", "reset-username": "adam"})
    assert reset.status_code == 302 and not TOTPDevice.objects.filter(user=city.admin).exists()
