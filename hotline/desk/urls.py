"""URLs of the agent desk (坐席工作台); the wallboard has its own (``wallboard_urls``)."""

from django.urls import include, path

from hotline.desk import chat_views, softphone_views, views, views_calls, views_idle

app_name = "desk"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("status/", views.desk_status, name="status"),
    path("state/", views.desk_state, name="state"),
    path("idle/", views_idle.idle_panel, name="idle"),
    path("figures/", views_idle.figures_panel, name="figures"),
    path("knowledge/", views_idle.knowledge_answers, name="knowledge"),
    path("callbacks/", views.callback_list, name="callbacks"),
    path("callbacks/<int:callback_id>/done/", views.callback_done, name="callback_done"),
    path("callback-tasks/", include("hotline.desk.callback_task_urls")),
    path("directory/", views_calls.directory, name="directory"),
    path("calls/<int:call_id>/pop/", views_calls.call_pop, name="call_pop"),
    path("calls/<int:call_id>/form/", views_calls.call_form, name="call_form"),
    path("calls/<int:call_id>/order/", views_calls.call_order, name="call_order"),
    path("calls/<int:call_id>/command/", views_calls.call_command, name="call_command"),
    path("softphone/", softphone_views.softphone_register, name="softphone_register"),
    path("softphone/<int:session_id>/", softphone_views.softphone_session, name="softphone_session"),
    path("softphone/<int:session_id>/close/", softphone_views.softphone_close,
         name="softphone_close"),
    path("chats/", chat_views.chat_panel, name="chats"),
    path("chats/<int:chat_id>/log/", chat_views.chat_log, name="chat_log"),
    path("chats/<int:chat_id>/send/", chat_views.chat_send, name="chat_send"),
    path("chats/<int:chat_id>/close/", chat_views.chat_close, name="chat_close"),
    path("chats/<int:chat_id>/order/", chat_views.chat_order, name="chat_order"),
    path("chats/<int:chat_id>/files/<int:message_id>/", chat_views.chat_file, name="chat_file"),
]
