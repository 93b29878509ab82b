"""Settings for the test suite: the normal settings plus a fast password hasher."""

import os

os.environ.setdefault("HOTLINE_ALLOW_DEV_SECRET", "1")
os.environ.setdefault("HOTLINE_TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")

from hotline.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = DATA_DIR / "test-media"  # noqa: F405
# Tests serve static files from the apps' folders, not a collected STATIC_ROOT.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # type: ignore[assignment]  # no collected folder in tests
