"""Imports every module that declares standard reports (each calls ``reports.register``), so
that ``hotline.insight.reports`` knows them all. One line per module."""

from __future__ import annotations

from hotline.insight import (
    assessment_report,  # noqa: F401 - the assessment ranking
    call_reports,  # noqa: F401
    order_reports,  # noqa: F401
    quality_reports,  # noqa: F401
)
