from django.urls import path

from hotline.portal import citizen_chat_views as chat
from hotline.portal import citizen_portal_views as views
from hotline.portal import mailbox_views, poll_views
from hotline.portal import preference_views as prefs

app_name = "citizen"

urlpatterns = [
    path("", views.home, name="home"),
    path("chat/", chat.chat_start, name="chat_start"),
    path("chat/<str:token>/", chat.chat_page, name="chat"),
    path("chat/<str:token>/send/", chat.chat_send, name="chat_send"),
    path("chat/<str:token>/leave/", chat.chat_leave_message, name="chat_leave"),
    path("chat/<str:token>/close/", chat.chat_close, name="chat_close"),
    path("chat/<str:token>/files/<int:message_id>/", chat.chat_file, name="chat_file"),
    path("submit/", views.submit, name="submit"),
    path("follow/", views.follow, name="follow"),
    path("r/<str:token>/", views.track, name="track"),
    path("requests/<str:number>/", views.timeline, name="timeline"),
    path("requests/<str:number>/rate/", views.rate, name="rate"),
    path("requests/<str:number>/reopen/", views.reopen, name="reopen"),
    path("mailbox/", mailbox_views.letters, name="mailbox"),
    path("mailbox/write/", mailbox_views.write, name="mailbox_write"),
    path("mailbox/<int:letter_id>/", mailbox_views.letter, name="mailbox_letter"),
    path("polls/<str:token>/", poll_views.poll_answer, name="poll_answer"),
    path("preferences/", prefs.start, name="preferences_start"),
    path("preferences/phone/", prefs.by_phone, name="preferences_phone"),
    path("preferences/<str:token>/", prefs.by_link, name="preferences"),
    path("unsubscribe/<str:token>/", prefs.one_click, name="unsubscribe"),
]
