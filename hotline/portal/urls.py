from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import path

app_name = "portal"


def home(request: HttpRequest) -> HttpResponse:
    return HttpResponse("12345")


urlpatterns = [
    path("", home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
]
