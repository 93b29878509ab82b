from django.urls import path

from hotline.insight import views

app_name = "insight"

urlpatterns = [
    path("", views.hot_issues_page, name="hot_issues"),
]
