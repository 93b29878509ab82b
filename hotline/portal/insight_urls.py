from django.urls import path

from hotline.portal import call_stats_views
from hotline.portal import insight_views as views

app_name = "insight"

urlpatterns = [
    path("", views.hot_issues_page, name="hot_issues"),
    path("calls/", call_stats_views.call_stats_page, name="calls"),
    path("screen/", call_stats_views.big_screen_page, name="screen"),
    path("screen/figures/", call_stats_views.big_screen_figures, name="screen_figures"),
]
