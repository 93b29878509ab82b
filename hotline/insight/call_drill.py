"""The calls behind a number of the calls report: the same queue entries the call rollups sum
(first entries only, by the local hour they joined the queue, ``call_rollups.call_sums``),
with the same conditions per figure, limited to what the viewer may see: the centre's roles
every call, an agent only the calls they answered (as their report shows). The caller's number
is masked: a figure's calls are for checking the figure, not for calling anybody.

A row of the report names its calls by ``queue`` (queue id), ``day`` (YYYY-MM-DD), ``hour``
(0-23, local) or ``agent`` (user id); the report's own filters (``queue`` code in
``queue_code``, ``agent``) and the range (``from``, ``to``) come along."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.db.models.functions import ExtractHour
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from hotline.contactcentre.call_figures import SHORT_ABANDON_S
from hotline.contactcentre.models import CallOutcome, Queue, QueuedCall
from hotline.contactcentre.stats import ANSWERED, first_entries
from hotline.core.errors import Forbidden, InvalidInput
from hotline.insight.call_rollups import ALL_OUTCOMES, day_span
from hotline.insight.call_stats import may_view_call_stats, sees_centre
from hotline.insight.reports import MAX_RANGE_DAYS, ReportQuery, parse_day

ANSWERED_Q = Q(outcome__in=ANSWERED, answered_at__isnull=False)
ABANDONED_Q = Q(outcome=CallOutcome.ABANDONED)
# Each count of the calls report as a condition on a queue entry (as call_sums counts it).
MEASURES: dict[str, Q] = {
    "offered": Q(),
    "answered": ANSWERED_Q,
    "abandoned": ABANDONED_Q & Q(wait_s__gt=SHORT_ABANDON_S),
    "short_abandoned": ABANDONED_Q & Q(wait_s__lte=SHORT_ABANDON_S),
}


def _number(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name, "")
    if value == "":
        return None
    if not value.isdigit():
        raise InvalidInput(gettext_noop("Give a number."), field=name)
    return int(value)


def drill_calls(viewer: Any, params: Mapping[str, str]) -> QuerySet[QueuedCall]:
    if not may_view_call_stats(viewer):
        raise Forbidden(gettext_noop("Your role may not see the call statistics."))
    date_from = parse_day(params.get("from", ""), "from")
    date_to = parse_day(params.get("to", ""), "to")
    if date_to < date_from or (date_to - date_from).days > MAX_RANGE_DAYS:
        raise InvalidInput(gettext_noop("The date range is not valid."), field="to")
    measure = params.get("measure") or "offered"
    if measure not in MEASURES:
        raise InvalidInput(gettext_noop("Unknown measure."), field="measure")
    if params.get("day"):
        day = parse_day(params["day"], "day")
        date_from, date_to = max(date_from, day), min(date_to, day)
    start, end = day_span(date_from, date_to)
    # Every outcome spelled out, as call_sums does: the (outcome, queued_at) index.
    calls = QueuedCall.objects.filter(first_entries(), MEASURES[measure],
                                      outcome__in=ALL_OUTCOMES, queued_at__gte=start,
                                      queued_at__lt=end)
    if (queue_id := _number(params, "queue")) is not None:
        calls = calls.filter(queue_id=queue_id)
    if code := params.get("queue_code", ""):
        queue = Queue.objects.filter(code=code).values_list("pk", flat=True).first()
        if queue is None:
            raise InvalidInput(gettext_noop("No queue has this code."), field="queue_code")
        calls = calls.filter(queue_id=queue)
    if (hour := _number(params, "hour")) is not None:
        if hour > 23:
            raise InvalidInput(gettext_noop("An hour is 0 to 23."), field="hour")
        calls = calls.annotate(local_hour=ExtractHour(
            "queued_at", tzinfo=timezone.get_current_timezone())).filter(local_hour=hour)
    agent_id = _number(params, "agent")
    if not sees_centre(viewer):
        if agent_id not in (None, viewer.pk):
            raise Forbidden(gettext_noop("An agent sees only their own calls."))
        agent_id = viewer.pk
    if agent_id is not None:  # the agents' figures count the calls each one answered
        calls = calls.filter(ANSWERED_Q, agent_id=agent_id)
    return calls.select_related("queue", "agent").order_by("-queued_at", "-pk")


def call_drill_url(query: ReportQuery, params: Mapping[str, str]) -> str:
    """The call list behind a row of the calls report (the page adds ``measure=``)."""
    try:
        base = reverse("insight:call_drill")
    except NoReverseMatch:  # a project without the pages: the numbers still compute
        return ""
    merged: dict[str, str] = {"from": query.date_from.isoformat(),
                              "to": query.date_to.isoformat()}
    if query.filters.get("queue"):
        merged["queue_code"] = query.filters["queue"]
    if query.filters.get("agent"):
        merged["agent"] = query.filters["agent"]
    merged.update(params)
    return f"{base}?{urlencode(merged)}"
