"""The desk's call-back tasks, included under ``callback-tasks/`` in the desk's namespace."""

from django.urls import path

from hotline.desk import callback_task_views as views

urlpatterns = [
    path("", views.task_list, name="callback_tasks"),
    path("<int:task_id>/", views.task_panel, name="callback_task"),
    path("<int:task_id>/call/", views.task_call, name="callback_task_call"),
    path("<int:task_id>/record/", views.task_record, name="callback_task_record"),
    path("<int:task_id>/reached/", views.task_reached, name="callback_task_reached"),
    path("<int:task_id>/not-reached/", views.task_not_reached, name="callback_task_not_reached"),
    path("<int:task_id>/release/", views.task_release, name="callback_task_release"),
]
