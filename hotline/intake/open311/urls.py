from django.urls import re_path

from hotline.intake.open311 import views

app_name = "open311"
FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^v2/services" + FMT, views.services, name="services"),
    re_path(r"^v2/services/(?P<code>[\w-]{1,32})" + FMT, views.service_definition,
            name="service"),
    re_path(r"^v2/requests" + FMT, views.requests, name="requests"),
    re_path(r"^v2/requests/(?P<number>\d{1,20})" + FMT, views.request_detail, name="request"),
    re_path(r"^v2/tokens/(?P<token>\w{1,64})" + FMT, views.token, name="token"),
]
