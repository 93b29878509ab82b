"""A test-only URLconf: the project's URLs plus the knowledge router mounted at
/api/v1/knowledge/ on its own NinjaAPI, used until hotline/api/urls.py mounts the router (the
tests then run against the real API; see ``api_client`` in test_api.py)."""

from django.urls import path
from ninja import NinjaAPI

from hotline.api import errors
from hotline.api.auth import AUTH
from hotline.api.knowledge import router
from hotline.urls import urlpatterns as project_urlpatterns

test_api = NinjaAPI(title="knowledge test", version="test", urls_namespace="kbtest", auth=AUTH)
errors.install(test_api)
test_api.add_router("/knowledge", router)

urlpatterns = [path("api/v1/", test_api.urls), *project_urlpatterns]
