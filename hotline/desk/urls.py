"""URLs of the agent desk (坐席工作台); the wallboard has its own (``wallboard_urls``)."""

from django.urls import path

from hotline.desk import views, views_calls

app_name = "desk"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("status/", views.desk_status, name="status"),
    path("state/", views.desk_state, name="state"),
    path("callbacks/", views.callback_list, name="callbacks"),
    path("callbacks/<int:callback_id>/done/", views.callback_done, name="callback_done"),
    path("directory/", views_calls.directory, name="directory"),
    path("calls/<int:call_id>/pop/", views_calls.call_pop, name="call_pop"),
    path("calls/<int:call_id>/form/", views_calls.call_form, name="call_form"),
    path("calls/<int:call_id>/order/", views_calls.call_order, name="call_order"),
    path("calls/<int:call_id>/command/", views_calls.call_command, name="call_command"),
]
