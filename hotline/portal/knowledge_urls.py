from django.urls import path

from hotline.portal import knowledge_views as views

app_name = "knowledge"

urlpatterns = [
    path("", views.search, name="search"),
    path("suggest/", views.suggest, name="suggest"),
    path("suggest/<int:entry_id>/not-helpful/", views.not_helpful, name="not_helpful"),
    path("entries/<int:entry_id>/", views.entry_detail, name="entry"),
    path("entries/<int:entry_id>/edit/", views.entry_edit, name="edit"),
    path("entries/<int:entry_id>/<str:action>/", views.entry_action, name="action"),
    path("new/", views.entry_new, name="new"),
    path("mine/", views.mine, name="mine"),
    path("review/", views.review, name="review"),
    path("export.xlsx", views.export, name="export"),
    path("import/", views.import_view, name="import"),
    path("public/", views.public_search, name="public_search"),
    path("public/<int:entry_id>/", views.public_entry, name="public_entry"),
]
