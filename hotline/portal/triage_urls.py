from django.urls import path

from hotline.portal import triage_views as views

app_name = "triage"

urlpatterns = [
    path("suggest/", views.suggest, name="suggest"),
    path("orders/<str:number>/suggest/", views.order_suggest, name="order_suggest"),
    path("models/", views.models_page, name="models"),
    path("models/train/", views.train, name="train"),
    path("models/<int:version>/activate/", views.activate, name="activate"),
]
