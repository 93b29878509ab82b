from django.urls import path

from hotline.portal import survey_views

app_name = "citizen_survey"

urlpatterns = [
    path("<str:token>/", survey_views.survey_page, name="page"),
]
