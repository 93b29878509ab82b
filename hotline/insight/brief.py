"""The weekly brief for the city's leaders (市长电话要情): a PDF made every Monday for the week
before (and on demand), emailed to the leaders, kept in an archive.

It shows the week's headline figures against the week before (read from the rollups through
the standard reports, so they are the reports' numbers), the hot issues and spikes, the notable
cases (major events, leaders' instructions, supervised and long-overdue orders), the overdue
orders by unit (the overdue report) and the assessment's ranking of the departments. The
brief is the leaders': it names no citizen, and a report (举报) or a confidential order
appears by number only.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hotline.core.errors import InvalidInput
from hotline.core.roles import Role
from hotline.directory.models import OrderType, User
from hotline.insight.brief_models import WeeklyBrief
from hotline.insight.reports import ReportResult, check_query, get_report, run_report
from hotline.insight.services import Window, hot_issues
from hotline.orders.models import Order, OrderEvent

log = logging.getLogger(__name__)

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
BRIEF_ROLES = frozenset({Role.LEADER, Role.CENTRE_ADMIN, Role.MONITOR})
MAKERS = frozenset({Role.LEADER, Role.CENTRE_ADMIN})  # may make one on demand
MAKE_FROM = dt.time(7, 0)  # Monday morning, local: last week is over and the night's jobs ran
NOTABLE_ACTIONS = ("escalate", "instruct", "supervise", "escalate_overdue")


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def may_read_briefs(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") in BRIEF_ROLES)


def may_make_briefs(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") in MAKERS)


def brief_for(monday: dt.date, now: dt.datetime | None = None) -> WeeklyBrief:
    """The kept brief of the week, made now if the week is over and none was kept yet."""
    brief = WeeklyBrief.objects.filter(week=monday).first()
    if brief is not None:
        return brief
    if _bounds(monday)[1] > (now or timezone.now()):
        raise InvalidInput(gettext_noop("That week is not over yet."), field="week")
    return do_make_brief(monday, now)


def parse_week(text: str) -> dt.date:
    """``YYYY-Www`` (ISO week) -> its Monday."""
    match = WEEK_RE.match(text.strip())
    if not match:
        raise InvalidInput(gettext_noop("Write the week as YYYY-Www, e.g. 2026-W48."),
                           field="week")
    try:
        return dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise InvalidInput(gettext_noop("There is no such week."), field="week") from None


def week_label(monday: dt.date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def last_complete_week(now: dt.datetime | None = None) -> dt.date:
    today = (now or timezone.now()).astimezone(_zone()).date()
    return today - dt.timedelta(days=today.weekday() + 7)


def _bounds(monday: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=_zone())
    return start, start + dt.timedelta(days=7)


@dataclass
class Figure:
    label: str
    this_week: float | None  # None: nothing to count (a rate over no calls or orders)
    last_week: float | None
    rate: bool = False  # a percentage, compared in points

    @property
    def change(self) -> str:
        if self.this_week is None or self.last_week is None:
            return "—"
        if self.rate:
            return f"{self.this_week - self.last_week:+.1f}"
        if not self.last_week:
            return "—"
        return f"{100.0 * (self.this_week - self.last_week) / self.last_week:+.1f}%"

    @property
    def shown(self) -> str:
        return self._show(self.this_week)

    @property
    def shown_last(self) -> str:
        return self._show(self.last_week)

    def _show(self, value: float | None) -> str:
        if value is None:
            return "—"
        return f"{value:.1f}%" if self.rate else f"{int(value):,}"


@dataclass
class BriefData:
    week: str
    start: dt.date
    end: dt.date
    figures: list[Figure]
    hot_issues: list[dict[str, Any]]
    spikes: list[dict[str, Any]]
    notable: list[dict[str, Any]]
    overdue_by_unit: list[dict[str, Any]]
    ranking: list[dict[str, Any]] = field(default_factory=list)
    ranking_title: str = ""
    overdue_from: dt.date | None = None  # the overdue section's first day

    @property
    def ranking_has_change(self) -> bool:
        return any(r.get("change") not in (None, "", "—") for r in self.ranking)


def city_reader() -> User:
    """Not a stored account: a city-wide reader, as the hot-issue refresh uses, so the brief's
    figures are the reports' figures for the whole city."""
    return User(username="weekly-brief", role=Role.LEADER, is_active=True)


def _report(name: str, first: dt.date, last: dt.date, group: str = "") -> ReportResult:
    report = get_report(city_reader(), name)
    return run_report(city_reader(), report, check_query(report, first, last, {}, group))


def _counts(first: dt.date, last: dt.date) -> dict[str, float | None]:
    """The figures of the local days [first, last], read from the rollups through the standard
    reports (orders by the day they were accepted, calls by the hour they queued)."""
    volume = _report("order-volume", first, last, "type")
    by_type = {str(row.get("_key")): row for row in volume.rows}
    on_time = _report("order-rates", first, last, "type").totals.get("on_time_rate")
    calls = _report("calls", first, last).totals

    def pct(value: Any) -> float | None:  # a rate over nothing is not 0 %
        return 100.0 * value if isinstance(value, int | float) else None

    return {
        "received": volume.totals["received"],
        "complaints": by_type.get(OrderType.COMPLAINT, {}).get("received", 0),
        "reports": by_type.get(OrderType.REPORT, {}).get("received", 0),
        "direct": volume.totals["direct"], "closed": volume.totals["closed"],
        "on_time_pct": pct(on_time), "overdue_marked": volume.totals["overdue"],
        "calls_offered": calls.get("offered") or 0, "calls_answered": calls.get("answered") or 0,
        "answer_pct": pct(calls.get("connection_rate")),
    }


FIGURES: list[tuple[str, str, bool]] = [
    ("received", gettext_noop("Requests received"), False),
    ("complaints", gettext_noop("of which complaints"), False),
    ("direct", gettext_noop("Answered directly by the centre"), False),
    ("closed", gettext_noop("of which closed by now"), False),
    ("on_time_pct", gettext_noop("On-time completion rate"), True),
    ("overdue_marked", gettext_noop("of which overdue"), False),
    ("calls_offered", gettext_noop("Calls to the hotline"), False),
    ("answer_pct", gettext_noop("Connection rate"), True),
]


def _hot(start: dt.datetime, end: dt.datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    try:
        report = hot_issues(city_reader(), Window(start=start, end=end), limit=8, samples=0)
    except Exception:  # the brief goes out even if clustering fails; the log says why
        log.exception("weekly brief: hot issues failed")
        return [], []
    issues = [{"label": i.label, "count": i.count,
               "districts": "、".join(name for name, _n in i.districts[:3]),
               "spike": i.spike is not None} for i in report.issues[:8]]
    area = [{"category": s.category, "district": s.district,
             "count": s.spike.current, "usual": round(s.spike.expected, 1)}
            for s in report.area_spikes[:6]]
    return issues, area


def _title(order: Order) -> str:
    if order.confidential or order.type == OrderType.REPORT:
        return _("(confidential)")
    return order.title


def _notable(start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    events = (OrderEvent.objects.filter(created_at__gte=start, created_at__lt=end,
                                        action__in=NOTABLE_ACTIONS)
              .select_related("order__lead_unit").order_by("created_at")[:200])
    seen: dict[int, dict[str, Any]] = {}
    for event in events:
        row = seen.setdefault(event.order_id, {
            "number": event.order.number, "title": _title(event.order),
            "unit": event.order.lead_unit.name if event.order.lead_unit else "",
            "why": set()})
        row["why"].add(event.get_action_display())
    rows = list(seen.values())[:12]
    for row in rows:
        row["why"] = "、".join(sorted(row["why"]))
    return rows


OVERDUE_DAYS = 30  # the overdue section: orders accepted in the 30 days to the week's end


def _overdue_by_unit(last: dt.date) -> list[dict[str, Any]]:
    """Lead units by orders that went overdue, of the orders accepted in the ``OVERDUE_DAYS``
    days to ``last`` (the overdue report's rows, from the rollups)."""
    result = _report("order-overdue", last - dt.timedelta(days=OVERDUE_DAYS - 1), last, "unit")
    rows = [{"unit": row["label"], "count": row["overdue"], "dispatched": row["dispatched"]}
            for row in result.rows if row.get("overdue") and row.get("_key") not in ("", "0")]
    rows.sort(key=lambda r: (-r["count"], r["unit"]))
    return rows[:12]


# What fills the ranking section: a function of the week's Monday returning (title, rows with
# unit, score, rank, change). By default the assessment's monthly ranking
# (``brief_ranking.assessment_ranking``); a deployment may point it elsewhere.
RankingSource = Callable[[dt.date], tuple[str, list[dict[str, Any]]]]
RANKING_SOURCE: str = "hotline.insight.brief_ranking.assessment_ranking"


def _ranking(monday: dt.date) -> tuple[str, list[dict[str, Any]]]:
    from django.utils.module_loading import import_string

    source: RankingSource = import_string(RANKING_SOURCE)
    return source(monday)


def _up_to_date(now: dt.datetime | None = None) -> None:
    """The rollups brought up to now: the brief is kept, so it must not miss the last minute's
    orders and calls however the worker's refresh is set. Both refreshes are idempotent."""
    from hotline.insight.call_rollups import refresh_call_rollups
    from hotline.insight.rollups import refresh_order_rollups

    refresh_order_rollups(now=now)
    refresh_call_rollups(now)


def gather(monday: dt.date, now: dt.datetime | None = None) -> BriefData:
    _up_to_date(now)
    start, end = _bounds(monday)
    sunday = monday + dt.timedelta(days=6)
    this = _counts(monday, sunday)
    last = _counts(monday - dt.timedelta(days=7), monday - dt.timedelta(days=1))
    figures = [Figure(_(label), this[key], last[key], rate) for key, label, rate in FIGURES]
    issues, area = _hot(start, end)
    title, ranking = _ranking(monday)
    return BriefData(week=week_label(monday), start=monday, end=monday + dt.timedelta(days=6),
                     figures=figures, hot_issues=issues, spikes=area,
                     notable=_notable(start, end), overdue_by_unit=_overdue_by_unit(sunday),
                     overdue_from=sunday - dt.timedelta(days=OVERDUE_DAYS - 1),
                     ranking=ranking, ranking_title=title)


def render_pdf(data: BriefData, made_at: dt.datetime) -> bytes:
    from weasyprint import HTML  # imported here: it loads Pango, which pages never need

    html = render_to_string("insight/brief_pdf.html", {"brief": data, "made_at": made_at})
    pdf: bytes = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
    return pdf


def do_make_brief(monday: dt.date, now: dt.datetime | None = None) -> WeeklyBrief:
    """Make (or make again) the brief of the week starting ``monday``, in Chinese."""
    when = now or timezone.now()
    if monday.weekday() != 0:
        raise InvalidInput(gettext_noop("A brief covers a week from Monday."), field="week")
    if _bounds(monday)[0] > when:
        raise InvalidInput(gettext_noop("That week has not begun."), field="week")
    with translation.override(settings.LANGUAGE_CODE):
        data = gather(monday, now)
        pdf = render_pdf(data, when)
    figures = {"figures": [{"label": f.label, "this_week": f.this_week, "last_week": f.last_week}
                           for f in data.figures],
               "hot_issues": data.hot_issues, "overdue_by_unit": data.overdue_by_unit,
               "notable": data.notable, "ranking": data.ranking}
    brief, _created = WeeklyBrief.objects.update_or_create(
        week=monday, defaults={"pdf": pdf, "figures": _jsonable(figures), "made_at": when})
    return brief


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, set):
        return sorted(value)
    if hasattr(value, "__dataclass_fields__"):
        return _jsonable(asdict(value))
    return value


def recipients() -> list[str]:
    return sorted(set(User.objects.filter(role=Role.LEADER, is_active=True)
                      .exclude(email="").values_list("email", flat=True)))


def do_send_brief(brief: WeeklyBrief, now: dt.datetime | None = None) -> int:
    """Email the brief to every active leader with an address; returns how many."""
    to = recipients()
    if not to:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("12345 weekly brief %(week)s") % {"week": brief.label}
        body = _("The 12345 hotline's weekly brief for %(week)s is attached.") % {
            "week": brief.label}
    message = EmailMessage(subject, body, to=[settings.DEFAULT_FROM_EMAIL], bcc=to)
    message.attach(f"12345-brief-{brief.label}.pdf", bytes(brief.pdf), "application/pdf")
    message.send()
    WeeklyBrief.objects.filter(pk=brief.pk).update(sent_at=now or timezone.now(), sent_to=len(to))
    return len(to)


def do_weekly_brief_job(now: dt.datetime | None = None) -> str:
    """The worker's hourly turn: from Monday 07:00 on, last week's brief is made and emailed
    once (a brief made on demand before then is emailed, not made again)."""
    when = now or timezone.now()
    local = when.astimezone(_zone())
    if local.weekday() == 0 and local.time() < MAKE_FROM:
        return "waiting for Monday morning"
    monday = last_complete_week(when)
    brief = WeeklyBrief.objects.filter(week=monday).first()
    if brief is None:
        brief = do_make_brief(monday, when)
    if brief.sent_at is None:
        sent = do_send_brief(brief, when)
        return f"{brief.label}: emailed to {sent}"
    return f"{brief.label}: done"
