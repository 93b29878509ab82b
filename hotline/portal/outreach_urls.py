from django.urls import path

from hotline.portal import campaign_views as campaigns
from hotline.portal import poll_views as polls

app_name = "outreach"

urlpatterns = [
    path("campaigns/", campaigns.campaign_list, name="campaign_list"),
    path("campaigns/new/", campaigns.campaign_new, name="campaign_new"),
    path("campaigns/<int:campaign_id>/", campaigns.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:campaign_id>/progress/", campaigns.campaign_progress,
         name="campaign_progress"),
    path("campaigns/<int:campaign_id>/act/", campaigns.campaign_action, name="campaign_action"),
    path("campaigns/<int:campaign_id>/export/", campaigns.campaign_export,
         name="campaign_export"),
    path("polls/", polls.poll_list, name="poll_list"),
    path("polls/new/", polls.poll_new, name="poll_new"),
    path("polls/<int:poll_id>/", polls.poll_detail, name="poll_detail"),
    path("polls/<int:poll_id>/edit/", polls.poll_edit, name="poll_edit"),
    path("polls/<int:poll_id>/act/", polls.poll_action, name="poll_action"),
    path("polls/<int:poll_id>/export/", polls.poll_export, name="poll_export"),
]
