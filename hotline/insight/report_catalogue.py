"""Imports every module that declares standard reports (each calls ``reports.register``), so
that ``hotline.insight.reports`` knows them all. One line per module."""

from __future__ import annotations

from hotline.insight import call_reports  # noqa: F401
