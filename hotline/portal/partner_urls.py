from django.urls import path

from hotline.portal import partner_views as views

app_name = "partners"

urlpatterns = [
    path("", views.partner_list, name="list"),
    path("assign/", views.assign, name="assign"),
    path("<int:partner_id>/", views.partner_detail, name="detail"),
    path("assignments/<int:assignment_id>/rate/", views.record_rating, name="record_rating"),
    path("rate/<str:token>/", views.rate, name="rate"),
]
