"""ASGI entry point: HTTP through Django; websockets are added by the desk (channels) later."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

application = get_asgi_application()

# Load every view module now (the URLconf imports the API routers, and through them numpy,
# scikit-learn and jieba): seconds on a busy machine that would otherwise fall on the first
# request each worker serves, instead of on the worker's start.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - evaluated for its side effect
