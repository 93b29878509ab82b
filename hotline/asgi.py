"""ASGI entry point: HTTP through Django; websockets are added by the desk (channels) later."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

application = get_asgi_application()
