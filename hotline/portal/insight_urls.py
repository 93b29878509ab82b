from django.urls import path

from hotline.portal import insight_views as views

app_name = "insight"

urlpatterns = [
    path("", views.hot_issues_page, name="hot_issues"),
]
