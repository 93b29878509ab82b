"""The product's URLconf plus views that fail, to see the error pages a real failure gets."""

from typing import cast

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path

from hotline.urls import handler400, handler403, handler404, handler500
from hotline.urls import urlpatterns as product_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def explode(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret-internal-detail: the database password is hunter2")


urlpatterns: list[URLPattern | URLResolver] = [
    path("boom/", explode),
    path("api/v1/boom/", explode),
    *cast("list[URLPattern | URLResolver]", product_urlpatterns),
]
