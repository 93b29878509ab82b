"""Settings for the test suite: the normal settings plus a fast password hasher."""

import os
import tempfile

os.environ.setdefault("HOTLINE_ALLOW_DEV_SECRET", "1")
os.environ.setdefault("HOTLINE_TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
# A fixed acceptance-number key, so a test's numbers are the same on every run.
os.environ.setdefault("HOTLINE_NUMBER_KEY", "test-only-acceptance-number-key-0123456789")
# The SQLite test database is a file (WAL, busy timeout), as the product runs it, not Django's
# shared in-memory database: there a reader's table lock makes a concurrent writer fail at once
# ("database table is locked", no busy timeout applies), and the live-server, gateway and
# websocket tests write from several threads. One file per test process (parallel runs).
os.environ.setdefault("HOTLINE_TEST_SQLITE", os.path.join(
    tempfile.gettempdir(), f"hotline-test-{os.getpid()}.sqlite3"))

from hotline.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The tests' cache is per process and cleared without a database (several conftests clear it
# before every test); tests of the shared caches (database, Redis) configure them themselves.
if not os.environ.get("HOTLINE_CACHE_URL"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Django's test client calls itself `testserver`; only the tests accept that host name.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
MEDIA_ROOT = DATA_DIR / "test-media"  # noqa: F405
# Tests serve static files from the apps' folders, not a collected STATIC_ROOT.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # type: ignore[assignment]  # no collected folder in tests
