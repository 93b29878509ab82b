"""The polls' pages (民意调查): the list, the builder (one text box, see
``hotline.outreach.poll_spec``), a poll's results with server-side SVG bar charts, opening
and closing it, and the Excel export; and the citizens' answering page at a link (no login),
behind the portal's abuse controls. The rules are ``hotline.outreach.polls``'s."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from hotline.core.clientaddr import client_address
from hotline.core.errors import NotFound, ServiceError
from hotline.core.spreadsheets import new_workbook, write_row
from hotline.intake import phone_codes
from hotline.orders.access_log import do_log_access
from hotline.orders.lookup_limits import address_key
from hotline.orders.models import AccessKind
from hotline.outreach import outbound_flows, poll_spec, polls
from hotline.outreach.campaigns import CAMPAIGN_ROLES, may_run_campaigns
from hotline.outreach.models import Poll, PollResponse
from hotline.outreach.poll_chart import bar_chart
from hotline.portal import citizen_guard as guard
from hotline.portal.campaign_forms import PollForm
from hotline.web.access import StaffRequest, public_page, role_required
from hotline.web.forms import add_service_error

KIND_LABELS = {
    poll_spec.Kind.SINGLE: gettext_lazy("Single choice"),
    poll_spec.Kind.MULTIPLE: gettext_lazy("Multiple choice"),
    poll_spec.Kind.SCALE: gettext_lazy("Scale"),
    poll_spec.Kind.TEXT: gettext_lazy("Free text"),
}
EXAMPLE = """Q1 single: 您对本次停水通知的及时性是否满意？
- 满意
- 基本满意
- 不满意 -> Q3
Q2 scale 1-5: 请为供水抢修的速度打分（5分最高）
Q3 multiple: 您希望通过哪些方式收到停水通知？
- 短信
- 电话
- 社区公告
Q4 text: 您还有什么意见和建议？
"""


def _poll(request: StaffRequest, poll_id: int) -> Poll:
    try:
        return polls.get_poll(request.user, poll_id)
    except NotFound:
        raise Http404(_("No such poll.")) from None


@role_required(may_run_campaigns, roles=CAMPAIGN_ROLES)
def poll_list(request: StaffRequest) -> HttpResponse:
    rows = [{"poll": p, "responses": p.responses.count()}
            for p in polls.visible_polls(request.user)[:200]]
    return render(request, "portal/outreach/poll_list.html", {"rows": rows})


def _save(request: StaffRequest, form: PollForm, poll: Poll | None) -> Poll | None:
    data = form.cleaned_data
    fields = {"title": data["title"], "intro": data.get("intro") or "",
              "spec": data["questions"], "public": bool(data.get("public"))}
    try:
        if poll is None:
            return polls.do_create_poll(request.user, **fields)
        return polls.do_update_poll(request.user, poll.pk, **fields)
    except ServiceError as error:
        add_service_error(form, ServiceError(_(error.message), error.field))
        return None


@role_required(may_run_campaigns, roles=CAMPAIGN_ROLES)
def poll_new(request: StaffRequest) -> HttpResponse:
    if request.method != "POST":
        form = PollForm(initial={"questions": EXAMPLE})
        return render(request, "portal/outreach/poll_form.html", {"form": form})
    form = PollForm(request.POST)
    if form.is_valid() and (poll := _save(request, form, None)) is not None:
        messages.success(request, _("The poll was saved as a draft. Open it to take answers."))
        return redirect("outreach:poll_detail", poll_id=poll.pk)
    return render(request, "portal/outreach/poll_form.html", {"form": form}, status=400)


@role_required(may_run_campaigns, roles=CAMPAIGN_ROLES)
def poll_edit(request: StaffRequest, poll_id: int) -> HttpResponse:
    poll = _poll(request, poll_id)
    if request.method != "POST":
        form = PollForm(initial={"title": poll.title, "intro": poll.intro, "public": poll.public,
                                 "questions": poll_spec.dump(polls.questions_of(poll))})
        return render(request, "portal/outreach/poll_form.html", {"form": form, "poll": poll})
    form = PollForm(request.POST)
    if form.is_valid() and _save(request, form, poll) is not None:
        messages.success(request, _("The poll was saved."))
        return redirect("outreach:poll_detail", poll_id=poll.pk)
    return render(request, "portal/outreach/poll_form.html", {"form": form, "poll": poll},
                  status=400)


@role_required(may_run_campaigns, roles=CAMPAIGN_ROLES)
def poll_detail(request: StaffRequest, poll_id: int) -> HttpResponse:
    poll = _poll(request, poll_id)
    results = polls.poll_results(poll)
    charts = []
    for result in results.questions:
        svg = ""
        if result.counts:
            # bar_chart escapes every label: the markup is the server's own.
            svg = mark_safe(bar_chart([(label, n) for _v, label, n in result.counts],  # noqa: S308
                                      title=result.question.text))
        charts.append({"result": result, "svg": svg, "kind": KIND_LABELS[result.question.kind]})
    questions = polls.questions_of(poll)
    phone_ready = bool(outbound_flows.keypad_questions(questions))
    link = (settings.HOTLINE_PUBLIC_URL.rstrip("/")
            + reverse("citizen:poll_answer", args=[poll.token]))
    return render(request, "portal/outreach/poll_detail.html", {
        "poll": poll, "results": results, "charts": charts, "link": link,
        "phone_ready": phone_ready,
        "by_channel": [(label, results.by_channel.get(value, 0))
                       for value, label in PollResponse.Channel.choices],
    })


@role_required(may_run_campaigns, roles=CAMPAIGN_ROLES)
def poll_action(request: StaffRequest, poll_id: int) -> HttpResponse:
    poll = _poll(request, poll_id)
    if request.method == "POST":
        try:
            polls.do_poll_action(request.user, poll.pk, request.POST.get("action", ""))
        except ServiceError as error:
            messages.error(request, _(error.message))
        else:
            messages.success(request, _("Done."))
    return redirect("outreach:poll_detail", poll_id=poll.pk)


@role_required(may_run_campaigns, roles=CAMPAIGN_ROLES)
def poll_export(request: StaffRequest, poll_id: int) -> HttpResponse:
    poll = _poll(request, poll_id)
    header, rows = polls.export_rows(poll)
    book, sheet = new_workbook(_("Answers")[:31], header)
    for row in rows:
        write_row(sheet, row)
    do_log_access(request.user, AccessKind.EXPORT, request=request,
                  detail=f"poll {poll.pk} answers: {len(rows)}")
    data = io.BytesIO()
    book.save(data)
    response = HttpResponse(
        data.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="poll-{poll.pk}.xlsx"'
    return response


# --- the citizens' page ----------------------------------------------------------------------

def _raw_answers(request: HttpRequest, questions: list[poll_spec.Question]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for q in questions:
        name = f"q_{q.key}"
        raw[q.key] = (request.POST.getlist(name) if q.kind == poll_spec.Kind.MULTIPLE
                      else request.POST.get(name, ""))
    return raw


@public_page
@never_cache
def poll_answer(request: HttpRequest, token: str) -> HttpResponse:
    """Answer a poll at its link: a published poll's (anyone) or a recipient's own (once)."""
    try:
        answering = polls.answering_by_token(token)
    except NotFound as missing:
        return guard.refused(request, _(missing.message), 404, back=reverse("citizen:home"))
    questions = polls.questions_of(answering.poll)
    context: dict[str, Any] = {"poll": answering.poll, "questions": questions, "token": token,
                               "values": {}, "error_key": ""}
    if polls.already_answered(answering):
        return render(request, "citizen/poll_done.html", {"poll": answering.poll,
                                                          "already": True})
    if request.method != "POST":
        return render(request, "citizen/poll_answer.html", context)
    if guard.caught_by_honeypot(request):
        return guard.refused_robot(request, back=request.path)
    raw = _raw_answers(request, questions)
    context["values"] = {k: v if isinstance(v, list) else [v] for k, v in raw.items()}
    if not phone_codes.count("poll-address", address_key(client_address(request)),
                             settings.HOTLINE_POLL_ANSWERS_PER_ADDRESS, window=3600):
        return guard.refused_too_many(request, back=request.path)
    try:
        polls.do_answer_poll(answering, raw)
    except ServiceError as error:
        context["error"] = _(error.message)
        context["error_key"] = error.field or ""
        return render(request, "citizen/poll_answer.html", context, status=error.status)
    return render(request, "citizen/poll_done.html", {"poll": answering.poll, "already": False})
