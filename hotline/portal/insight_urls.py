from django.urls import path

from hotline.portal import custom_report_views, report_views
from hotline.portal import insight_views as views

app_name = "insight"

urlpatterns = [
    path("", views.hot_issues_page, name="hot_issues"),
    path("reports/", report_views.report_list, name="reports"),
    path("reports/orders/drill/", report_views.order_drill, name="order_drill"),
    path("reports/custom/", custom_report_views.custom_reports, name="custom_reports"),
    path("reports/custom/<int:pk>/", custom_report_views.custom_report, name="custom_report"),
    path("reports/custom/<int:pk>/delete/", custom_report_views.custom_report_delete,
         name="custom_report_delete"),
    path("reports/<str:name>/", report_views.report_page, name="report"),
]
