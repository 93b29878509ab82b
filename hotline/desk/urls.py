"""URLs of the desk (filled by the desk pages)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
