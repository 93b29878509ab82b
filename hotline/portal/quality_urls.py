from django.urls import path

from hotline.portal import quality_views as views

app_name = "quality"

urlpatterns = [
    path("", views.inspection_list, name="list"),
    path("figures/", views.figures, name="figures"),
    path("<int:inspection_id>/", views.inspection_detail, name="detail"),
    path("<int:inspection_id>/recording/", views.recording, name="recording"),
    path("<int:inspection_id>/score/", views.score, name="score"),
    path("<int:inspection_id>/appeal/", views.appeal, name="appeal"),
    path("<int:inspection_id>/decide/", views.decide, name="decide"),
]
