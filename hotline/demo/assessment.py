"""The demo's assessment (考核): the city's public utilities are marked as such (their weights
differ from the bureaus'), and the months the demo's orders fall in are scored at once, so the
ranking page has standings and changes from the month before at the first start instead of
after the worker's first hourly run."""

from __future__ import annotations

from django.utils import timezone

from hotline.directory.models import AssessmentKind, Unit
from hotline.insight.assessment_runs import month_of, score_month
from hotline.insight.scoring import month_before

# The demo's companies (供电, 燃气, 公交): public utilities, not government bureaus.
UTILITIES = ("power", "gas", "bus")
MONTHS = 3  # the current month and the two before it: the last complete one has a change


def score_demo_months() -> str:
    Unit.objects.filter(code__in=UTILITIES, assessment_kind="").update(
        assessment_kind=AssessmentKind.UTILITY)
    months = [month_of(timezone.now())]
    while len(months) < MONTHS:
        months.insert(0, month_before(months[0]))
    units = [score_month(month) for month in months]  # oldest first: changes need the month before
    return "assessment scored: " + ", ".join(f"{m} ({n} units)" for m, n in zip(months, units,
                                                                                   strict=True))
