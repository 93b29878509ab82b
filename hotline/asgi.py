"""ASGI entry point: HTTP through Django (its middleware run synchronously in one thread hop per
request: ``hotline.web.handler``), websockets (the agent desk, the wallboard) through channels
with the session's user."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

from hotline.web.handler import get_asgi_application

django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs the apps loaded
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from hotline.desk.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_application,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
})

# Load every view module now (the URLconf imports the API routers, and through them numpy,
# scikit-learn and jieba): seconds on a busy machine that would otherwise fall on the first
# request each worker serves, instead of on the worker's start.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - evaluated for its side effect
