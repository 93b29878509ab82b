"""The call statistics page (/insight/calls/) and the big screen (/insight/screen/).

- ``/insight/calls/?day=YYYY-MM-DD``: one day's calls per queue and per hour with charts, the
  agents' calls, time in each state, occupancy and timelines, IVR node usage, SMS and outbound
  calls. The centre's administrators, shift monitors and leaders see the centre; an agent sees
  their own calls and time only. Everything but the timelines reads the rollups.
- ``/insight/screen/``: the hall's big screen (1920 x 1080, dark); its websocket
  (``ws/insight/screen/``, ``hotline.desk.screen``) sends fresh figures;
  ``/insight/screen/figures/`` serves the same JSON for when the socket is down.

Thin: ``call_stats`` and ``screen`` compute, ``chart`` and ``city_map`` draw.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from hotline.contactcentre.call_figures import CONNECTION_TARGET, FAST_ANSWER_S, SHORT_ABANDON_S
from hotline.contactcentre.models import State
from hotline.insight import call_rollups, call_stats
from hotline.insight.call_reports import SMS_COLUMNS, call_values, outbound_values, sms_values
from hotline.insight.call_stats import CALL_STATS_ROLES, Grouping
from hotline.insight.chart import bar_chart, timeline
from hotline.insight.city_map import district_map
from hotline.insight.screen import SCREEN_ROLES, screen_figures
from hotline.outreach.models import Outcome, Purpose
from hotline.portal.call_stats_forms import CallDayForm
from hotline.web.access import role_required

TIMELINE_STATES = (State.IDLE, State.BUSY, State.RINGING, State.TALKING, State.WRAP_UP,
                   State.SIGNED_IN)


def _hours(moment: dt.datetime, day: dt.date) -> float:
    local = timezone.localtime(moment)
    days = (local.date() - day).days
    return days * 24 + local.hour + local.minute / 60 + local.second / 3600


def _timelines(request: HttpRequest, day: dt.date) -> str:
    found = call_stats.day_timelines(request.user, day)
    if not found:
        return ""
    names = call_stats.agent_names(found)
    labels = {s.value: str(s.label) for s in State}
    rows = [(names.get(agent_id, str(agent_id)),
             [(i.state, f"{labels.get(i.state, i.state)} "
                        f"{timezone.localtime(i.start):%H:%M:%S}–{timezone.localtime(i.end):%H:%M:%S}",
               _hours(i.start, day), _hours(i.end, day)) for i in intervals])
            for agent_id, intervals in found.items()]
    return timeline(rows, [(s.value, str(s.label)) for s in TIMELINE_STATES],
                    title=_("Agents' states through the day"))


@role_required(call_stats.may_view_call_stats, roles=CALL_STATS_ROLES)
def call_stats_page(request: HttpRequest) -> HttpResponse:
    form = CallDayForm(request.GET or None)
    if request.GET and not form.is_valid():
        return render(request, "insight/calls.html", {"form": form}, status=400)
    day = form.cleaned_data["day"] if form.is_bound else timezone.localdate()
    viewer = request.user
    centre = call_stats.sees_centre(viewer)
    by_queue = call_stats.call_rows(viewer, day, day, Grouping.QUEUE)
    by_agent = call_stats.call_rows(viewer, day, day, Grouping.AGENT)
    states = {row.key: row for row in call_stats.state_rows(viewer, day, day, Grouping.AGENT)}
    context: dict[str, Any] = {
        "form": form, "day": day, "centre": centre, "rolled_until": call_rollups.rolled_until(),
        "totals": call_values(call_stats.total(by_queue if centre else by_agent)),
        "by_queue": [(row.label, call_values(row.totals)) for row in by_queue],
        "agents": [(row.label, call_values(row.totals), states.get(row.key))
                   for row in by_agent],
        "idle_agents": [row for key, row in states.items()
                        if key not in {r.key for r in by_agent}],
        "timelines": mark_safe(_timelines(request, day)),  # noqa: S308 - escaped by chart
        "target": CONNECTION_TARGET * 100, "short_s": SHORT_ABANDON_S, "fast_s": FAST_ANSWER_S,
    }
    if centre:
        by_hour = call_stats.call_rows(viewer, day, day, Grouping.HOUR)
        values = {row.key: row.totals for row in by_hour}
        hours = list(range(24))
        context["by_hour"] = [(row.label, call_values(row.totals)) for row in by_hour]
        context["hour_chart"] = mark_safe(bar_chart(  # noqa: S308 - escaped by chart
            [(_("Offered"), [values[h].offered if h in values else 0 for h in hours]),
             (_("Answered"), [values[h].answered if h in values else 0 for h in hours]),
             (_("Abandoned"), [values[h].abandoned if h in values else 0 for h in hours])],
            [f"{h:02d}" for h in hours], title=_("Calls per hour")))
        context["ivr"] = call_stats.ivr_rows(day, day)
        context["sms"] = sms_values(call_stats.sms_counts(day, day).get(None, {}))
        context["sms_columns"] = SMS_COLUMNS
        purposes = {p.value: str(p.label) for p in Purpose}
        context["outbound"] = [(purposes.get(k, k), outbound_values(v)) for k, v in
                               sorted(call_stats.outbound_counts(day, day).items())]
        context["outcomes"] = [(o.value, o.label) for o in Outcome]
    return render(request, "insight/calls.html", context)


def _may_view_screen(user: Any) -> bool:
    return bool(user.is_superuser or user.role in SCREEN_ROLES)


@role_required(_may_view_screen, roles=SCREEN_ROLES)
def big_screen_page(request: HttpRequest) -> HttpResponse:
    figures = screen_figures()
    message = figures.as_message()
    return render(request, "insight/screen.html", {
        "figures": message,
        "map": mark_safe(district_map(  # noqa: S308 - escaped by city_map
            figures.districts, title=_("Orders today by district"))),
        "target": CONNECTION_TARGET * 100,
    })


@role_required(_may_view_screen, roles=SCREEN_ROLES)
def big_screen_figures(request: HttpRequest) -> JsonResponse:
    return JsonResponse(screen_figures().as_message())
