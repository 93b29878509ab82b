"""The desk's websockets: the agent's desk (screen pop, state, call updates), the wallboard
and the big screen."""

from django.urls import path

from hotline.desk.chat_consumers import CitizenChatConsumer
from hotline.desk.consumers import DeskConsumer
from hotline.desk.queue_consumer import WorkQueueConsumer
from hotline.desk.screen import BigScreenConsumer
from hotline.desk.wallboard import WallboardConsumer

websocket_urlpatterns = [
    path("ws/desk/", DeskConsumer.as_asgi()),
    path("ws/desk/wallboard/", WallboardConsumer.as_asgi()),
    path("ws/queues/", WorkQueueConsumer.as_asgi()),
    path("ws/chat/<str:token>/", CitizenChatConsumer.as_asgi()),
    path("ws/insight/screen/", BigScreenConsumer.as_asgi()),
]
