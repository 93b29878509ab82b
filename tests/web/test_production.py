"""Finding 10 of issue 10 (production defaults): no debug pages, a content security policy on
every response, HTTPS hardening, the demo's secret, the hosts served, `check --deploy` clean.

Settings are computed from the environment when hotline.settings is imported, so what depends
on the environment runs in a fresh interpreter with exactly that environment (a subprocess);
the rest uses the test client (pytest-django runs the tests with DEBUG off).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from hotline.env import ConfigError
from tests.portal.conftest import ensure_compiled_messages

if TYPE_CHECKING:
    from tests.conftest import City

ROOT = Path(__file__).resolve().parents[2]
TECHNICAL = ("Traceback", "Using the URLconf", "You're seeing this error because",
             "secret-internal-detail", "hunter2", "DEBUG = True")


def production_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """This process's environment without any hotline or test setting, as production."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HOTLINE_", "DJANGO_")) and k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="hotline.settings", HOTLINE_DATA_DIR=str(data_dir),
               HOTLINE_DEBUG="0", HOTLINE_LOG_LEVEL="WARNING")
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def random_key() -> str:
    return secrets.token_urlsafe(50)


@pytest.fixture(autouse=True)
def _messages() -> None:
    ensure_compiled_messages()


# --- friendly error pages ------------------------------------------------------------------

@pytest.mark.parametrize(("language", "expected"), [("zh-hans", "未找到"), ("en", "Not found")])
@pytest.mark.django_db
def test_unknown_url_gives_the_friendly_404_in_each_language(language: str, expected: str) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    response = client.get("/no-such-page/at-all/")
    html = response.content.decode()
    assert response.status_code == 404
    assert expected in html
    assert not any(text in html for text in TECHNICAL)
    assert "Content-Security-Policy" in response.headers


@pytest.mark.django_db
def test_the_language_cookie_chooses_the_404_language() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.cookies["django_language"] = "en"
    assert "Not found" in client.get("/missing/").content.decode()


@pytest.mark.urls("tests.web.urls_failing")
@pytest.mark.parametrize(("language", "lang_attr", "expected"),
                         [("zh-hans", 'lang="zh-CN"', "返回首页"), ("en", 'lang="en"', "Server error")])
@pytest.mark.django_db
def test_a_failing_view_gives_the_friendly_500(language: str, lang_attr: str, expected: str) -> None:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    response = client.get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    assert lang_attr in html and expected in html
    assert not any(text in html for text in TECHNICAL)
    assert "Content-Security-Policy" in response.headers


@pytest.mark.urls("tests.web.urls_failing")
@pytest.mark.django_db
def test_api_errors_stay_json() -> None:
    client = Client(raise_request_exception=False)
    failed = client.get("/api/v1/boom/")
    assert failed.status_code == 500
    assert failed.json() == {"detail": "internal server error"}
    missing = client.get("/api/v1/no-such-endpoint/")
    assert missing.status_code == 404 and "detail" in missing.json()
    assert "Content-Security-Policy" in failed.headers and "Content-Security-Policy" in missing.headers


@pytest.mark.django_db
def test_a_foreign_host_gets_the_friendly_400() -> None:
    response = Client(HTTP_HOST="evil.example", HTTP_ACCEPT_LANGUAGE="en").get("/login/")
    html = response.content.decode()
    assert response.status_code == 400
    assert "Bad request" in html and not any(text in html for text in TECHNICAL)


@pytest.mark.django_db
def test_a_refused_csrf_token_gets_the_friendly_403() -> None:
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/login/", {"username": "x", "password": "y"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "security token" in html and "CSRF verification failed" not in html


# --- content security policy ---------------------------------------------------------------

def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


@pytest.mark.django_db
def test_pages_the_api_and_static_files_carry_the_policy(city: City) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(city.agent)
    for path in ("/login/", "/orders/", "/api/v1/orders", "/static/portal/portal.css", "/status/"):
        response = client.get(path)
        assert response.status_code in (200, 302), path
        policy = directives(response.headers["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], path
        assert policy["style-src"] == ["'self'"], path
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
        assert policy["img-src"] == ["'self'", "data:"]
        # The desk and wallboard websockets, to this host only.
        assert policy["connect-src"] == ["'self'", "ws://testserver", "wss://testserver"]


@pytest.mark.django_db
def test_over_https_only_secure_websockets_are_allowed() -> None:
    response = Client().get("/login/", secure=True)
    assert directives(response.headers["Content-Security-Policy"])["connect-src"] == [
        "'self'", "wss://testserver"]


TEMPLATE_DIRS = [ROOT / "hotline"]
INLINE_CODE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on...= handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\shx-on", re.I), "hx-on attribute"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style", re.I), "<style> block"),
]


def test_no_template_has_inline_code_or_styles_the_policy_would_block() -> None:
    found = []
    for template in sorted(ROOT.glob("hotline/**/templates/**/*.html")):
        if template.name.endswith("_pdf.html"):
            continue  # rendered to PDF by weasyprint on the server, never served to a browser
        text = template.read_text(encoding="utf-8")
        for pattern, what in INLINE_CODE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{template.relative_to(ROOT)}:{line}: {what}")
    assert not found, "\n".join(found)


@pytest.mark.django_db
def test_the_api_docs_use_our_own_swagger_files() -> None:
    html = Client().get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html and "cdn" not in html.lower()


# --- HTTPS, hosts, secrets, deploy checks (fresh interpreters) ------------------------------

HTTPS_PROBE = """
import json, django
django.setup()
from django.test import Client
c = Client(HTTP_HOST="localhost")
plain = c.get("/login/")
secure = c.get("/login/", secure=True)
print(json.dumps({
    "plain_status": plain.status_code, "plain_location": plain.headers.get("Location"),
    "hsts": secure.headers.get("Strict-Transport-Security"),
    "csrf_cookie_secure": bool(secure.cookies["csrftoken"]["secure"]),
}))
"""


def test_https_mode_redirects_sends_hsts_and_secure_cookies(tmp_path: Path) -> None:
    done = run_python(HTTPS_PROBE, production_env(tmp_path, HOTLINE_HTTPS="1",
                                                  HOTLINE_SECRET_KEY=random_key()))
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["plain_status"] == 301 and seen["plain_location"] == "https://localhost/login/"
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["csrf_cookie_secure"] is True
    settings_probe = run_python(
        "import django; django.setup(); from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)",
        production_env(tmp_path, HOTLINE_HTTPS="1", HOTLINE_SECRET_KEY=random_key()))
    # The scheme comes from uvicorn (forwarded headers of trusted proxies only), never from a
    # header any client can send.
    assert settings_probe.stdout.split() == ["True", "True", "None"], settings_probe.stderr


def test_check_deploy_is_clean_in_production_mode(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_env(tmp_path, HOTLINE_HTTPS="1", HOTLINE_SECRET_KEY=random_key()),
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNINGS" not in done.stdout + done.stderr


HOST_PROBE = """
import django
django.setup()
from django.conf import settings
from django.test import Client
print(sorted(settings.ALLOWED_HOSTS), Client().get("/login/").status_code,
      Client(HTTP_HOST="localhost").get("/login/").status_code)
"""


def test_testserver_is_not_an_allowed_host_outside_the_tests(tmp_path: Path) -> None:
    done = run_python(HOST_PROBE, production_env(tmp_path, HOTLINE_SECRET_KEY=random_key()))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "['127.0.0.1', '[::1]', 'localhost'] 400 200"


def test_production_without_a_secret_refuses_to_start(tmp_path: Path) -> None:
    done = run_python("import django; django.setup()", production_env(tmp_path))
    assert done.returncode != 0
    assert "HOTLINE_SECRET_KEY" in done.stderr and "must be set in production" in done.stderr


def test_the_demo_secret_is_created_once_private_and_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "var" / "secret_key"
    env = production_env(tmp_path, HOTLINE_SECRET_KEY_FILE=str(key_file))
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    first = run_python(code, env)
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert len(key) >= 50 and first.stdout.strip() == key
    second = run_python(code, env)
    assert second.stdout.strip() == key  # sessions survive a restart
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]  # no temporary left


def test_a_secret_file_others_can_read_is_refused(tmp_path: Path) -> None:
    from hotline.env import secret_from_file

    key_file = tmp_path / "secret_key"
    key_file.write_text(random_key())
    key_file.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        secret_from_file(str(key_file))
    key_file.chmod(0o600)
    assert secret_from_file(str(key_file)) == key_file.read_text()
    short = tmp_path / "short"
    short.write_text("too-short")
    short.chmod(0o600)
    with pytest.raises(ConfigError, match="shorter than 50"):
        secret_from_file(str(short))


# --- `make run` as a newcomer starts it ----------------------------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _fetch(url: str) -> tuple[int, Any, str]:
    """Status, headers (names in any case) and body."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Accept-Language": "en"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def test_make_run_serves_without_debug_pages(tmp_path: Path) -> None:
    """The recipe itself (prerequisites taken as done): DEBUG off, the demo's secret generated
    into the data folder, static files collected and served, friendly errors, the policy."""
    import signal
    import time

    port = _free_port()
    env = production_env(tmp_path, HOTLINE_NO_DEMO="1", HOTLINE_NO_VOICE="1",
                         HOTLINE_NO_SMTP="1")
    for name in ("HOTLINE_DEBUG", "DJANGO_SETTINGS_MODULE"):
        env.pop(name)  # as a newcomer's shell has them: unset
    process = subprocess.Popen(
        ["make", "-s", "-o", "venv", "-o", "debian", "-o", "messages", "run", f"PORT={port}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    output: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 180
        for line in process.stdout:
            output.append(line)
            if "the hotline is running at" in line or time.monotonic() > deadline:
                break
        assert any("the hotline is running at" in line for line in output), "".join(output)
        status, headers, html = _fetch(f"http://127.0.0.1:{port}/no-such-page/")
        assert status == 404 and "Not found" in html, html[:500]
        assert not any(text in html for text in TECHNICAL)
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        status, headers, css = _fetch(f"http://127.0.0.1:{port}/static/portal/portal.css")
        assert status == 200 and ".topbar" in css
        assert (tmp_path / "static" / "portal" / "portal.css").exists()  # collected for whitenoise
        status, headers, html = _fetch(f"http://127.0.0.1:{port}/login/")
        assert status == 200 and headers.get("Content-Security-Policy")
        key_file = tmp_path / "secret_key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
