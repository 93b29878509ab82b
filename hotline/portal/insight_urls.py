from django.urls import path

from hotline.portal import insight_views as views
from hotline.portal import report_views

app_name = "insight"

urlpatterns = [
    path("", views.hot_issues_page, name="hot_issues"),
    path("reports/", report_views.report_list, name="reports"),
    path("reports/orders/drill/", report_views.order_drill, name="order_drill"),
    path("reports/<str:name>/", report_views.report_page, name="report"),
]
