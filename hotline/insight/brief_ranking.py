"""The weekly brief's ranking section (``brief.RANKING_SOURCE``): the assessment's monthly
ranking of the departments (考核排名, ``assessment.ranking``: the stored standings, scored by the
worker under the rules in force that month), for the month the brief's week ends in; while that
month has no standings yet, the month before. Only when no month has any (a centre that has not
configured its assessment) does it fall back to on-time completion per lead unit over the week,
read from the rollups through the rates report."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from hotline.insight import assessment
from hotline.insight.assessment_models import RankingGroup
from hotline.insight.reports import check_query, get_report, run_report
from hotline.insight.scoring import month_before

SHOWN = 15


def _change(rank_change: int | None) -> str:
    """Places gained (+) or lost (−) since the month before; "—" for a first ranking."""
    if rank_change is None:
        return "—"
    return f"+{rank_change}" if rank_change > 0 else ("0" if rank_change == 0 else
                                                      f"−{-rank_change}")


def assessment_ranking(monday: dt.date) -> tuple[str, list[dict[str, Any]]]:
    from hotline.insight.brief import city_reader

    sunday = monday + dt.timedelta(days=6)
    month = sunday.strftime("%Y-%m")
    for candidate in (month, month_before(month)):
        found = assessment.ranking(city_reader(), candidate, RankingGroup.DEPARTMENTS)
        ranked = [s for s in found.rows if s.rank is not None]
        if ranked:
            rows = [{"rank": s.rank, "unit": s.unit.name,
                     "score": f"{s.score:.1f}" if s.score is not None else "—",
                     "change": _change(s.rank_change), "count": s.counted}
                     for s in ranked[:SHOWN]]
            over = (sunday + dt.timedelta(days=1)).month != sunday.month or candidate != month
            title = (_("Assessment ranking of the departments, %(month)s") if over else
                     _("Assessment ranking of the departments, %(month)s (month to date)"))
            return title % {"month": candidate}, rows
    return on_time_ranking(monday)


def on_time_ranking(monday: dt.date) -> tuple[str, list[dict[str, Any]]]:
    """Lead units by on-time completion of the week's orders (the rates report by unit)."""
    from hotline.insight.brief import city_reader

    report = get_report(city_reader(), "order-rates")
    result = run_report(city_reader(), report, check_query(
        report, monday, monday + dt.timedelta(days=6), {}, "unit"))
    rows = [{"unit": r["label"], "count": r["dispatched"],
             "score": round(100.0 * r["on_time_rate"], 1), "change": ""}
            for r in result.rows
            if r.get("_key") not in ("", "0") and isinstance(r.get("on_time_rate"), float | int)]
    rows.sort(key=lambda r: (-r["score"], -r["count"], r["unit"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank
    return _("Units by on-time completion this week"), rows[:SHOWN]
