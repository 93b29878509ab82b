from django.urls import path

from hotline.portal import appointment_views as views

app_name = "appointments"

urlpatterns = [
    # public
    path("", views.services, name="services"),
    path("<int:service_id>/book/", views.book, name="book"),
    path("cancel/", views.cancel_by_code, name="cancel"),
    path("cancel/<str:token>/", views.cancel_link, name="cancel_link"),
    # staff
    path("staff/", views.staff_list, name="staff"),
    path("staff/book/", views.agent_book, name="agent_book"),
    path("staff/<int:booking_id>/<str:action>/", views.staff_action, name="staff_action"),
]
