"""The satisfaction survey's page (public, no login): the link in the survey's SMS or email
carries a random token, which is the proof; the citizen says whether the matter is resolved,
how satisfied they are and anything to add. The answer goes through
``hotline.outreach.surveys.do_answer_survey`` (the lifecycle's callback or reopen)."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.core.errors import ServiceError
from hotline.orders.models import Satisfaction
from hotline.outreach import surveys
from hotline.outreach.models import Survey
from hotline.outreach.notifications import is_private
from hotline.portal.citizen_portal_views import error_summary
from hotline.web.access import public_page


class SurveyForm(forms.Form):
    resolved = forms.TypedChoiceField(
        label=gettext_lazy("Is the matter resolved?"), widget=forms.RadioSelect,
        choices=[("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))],
        coerce=lambda value: value == "yes")
    satisfaction = forms.ChoiceField(label=gettext_lazy("How satisfied are you with the answer?"),
                                     choices=Satisfaction.choices, widget=forms.RadioSelect)
    words = forms.CharField(label=gettext_lazy("Anything you want to add (optional)"),
                            max_length=1000, required=False,
                            widget=forms.Textarea(attrs={"rows": 3}))


def _survey(token: str) -> Survey:
    survey = surveys.survey_for_token(token)
    if survey is None:
        raise Http404
    return survey


def _page(request: HttpRequest, survey: Survey, form: SurveyForm | None, *, status: int = 200,
          error: str = "") -> HttpResponse:
    order = survey.order
    reply = "" if is_private(order) else (order.reply_text or "")
    return render(request, "citizen/survey.html", {
        "survey": survey, "number": order.number, "reply": reply,
        "form": form if survey.state == Survey.State.ASKING else None,
        "errors": error_summary(form) if form is not None and form.is_bound else [],
        "error": error, "answered": survey.state == Survey.State.ANSWERED,
    }, status=status)


@public_page
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    survey = _survey(token)
    if request.method != "POST":
        return _page(request, survey, SurveyForm())
    if survey.state != Survey.State.ASKING:
        return _page(request, survey, None, status=409,
                     error=_("This survey is already answered or closed."))
    form = SurveyForm(request.POST)
    if not form.is_valid():
        return _page(request, survey, form, status=400)
    try:
        surveys.do_answer_survey(token, resolved=form.cleaned_data["resolved"],
                                 satisfaction=form.cleaned_data["satisfaction"],
                                 comment=form.cleaned_data["words"])
    except ServiceError as refused:
        return _page(request, _survey(token), None, status=409, error=_(refused.message))
    return redirect("citizen_survey:page", token=token)
