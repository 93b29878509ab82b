from django.urls import path

from hotline.portal import assessment_views, call_stats_views, custom_report_views, report_views
from hotline.portal import insight_views as views

app_name = "insight"

urlpatterns = [
    path("", views.hot_issues_page, name="hot_issues"),
    path("assessment/", assessment_views.ranking_page, name="assessment"),
    path("assessment/units/<str:code>/", assessment_views.unit_page, name="assessment_unit"),
    path("assessment/appeal/", assessment_views.appeal, name="assessment_appeal"),
    path("assessment/appeals/", assessment_views.appeals_page, name="assessment_appeals"),
    path("assessment/appeals/<int:appeal_id>/decide/", assessment_views.decide,
         name="assessment_decide"),
    path("reports/", report_views.report_list, name="reports"),
    path("reports/orders/drill/", report_views.order_drill, name="order_drill"),
    path("reports/calls/drill/", report_views.call_drill, name="call_drill"),
    path("reports/custom/", custom_report_views.custom_reports, name="custom_reports"),
    path("reports/custom/<int:pk>/", custom_report_views.custom_report, name="custom_report"),
    path("reports/custom/<int:pk>/delete/", custom_report_views.custom_report_delete,
         name="custom_report_delete"),
    path("reports/<str:name>/", report_views.report_page, name="report"),

    path("calls/", call_stats_views.call_stats_page, name="calls"),
    path("screen/", call_stats_views.big_screen_page, name="screen"),
    path("screen/figures/", call_stats_views.big_screen_figures, name="screen_figures"),
]
