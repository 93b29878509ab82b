from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from hotline.api.urls import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("knowledge/", include("hotline.knowledge.urls")),
    path("", include("hotline.portal.urls")),
    *i18n_patterns(path("admin/", admin.site.urls), prefix_default_language=False),
]
