from django.urls import path

from hotline.portal import brief_views as views

app_name = "briefs"

urlpatterns = [
    path("", views.archive, name="archive"),
    path("make/", views.make, name="make"),
    path("<str:week>.pdf", views.pdf, name="pdf"),
]
