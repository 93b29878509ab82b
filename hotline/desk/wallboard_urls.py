"""URLs of the supervisor's wallboard, mounted at /desk/wallboard/ (the websocket is
``ws/desk/wallboard/``, in ``hotline.desk.routing``)."""

from django.urls import path

from hotline.desk import wallboard_views as views

app_name = "wallboard"

urlpatterns = [
    path("", views.wallboard_page, name="page"),
    path("live/", views.wallboard_live, name="live"),
    path("agents/<int:agent_id>/", views.agent_panel, name="agent"),
    path("agents/<int:agent_id>/state/", views.agent_state, name="agent_state"),
    path("calls/<int:call_id>/command/", views.call_command, name="call_command"),
]
