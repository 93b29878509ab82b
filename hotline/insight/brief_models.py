"""The weekly brief (市长电话要情) as kept: one PDF per ISO week, with the figures it shows."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WeeklyBrief(models.Model):
    week = models.DateField(_("week (Monday)"), unique=True)
    pdf = models.BinaryField(_("PDF"))
    figures = models.JSONField(_("figures"), default=dict)
    made_at = models.DateTimeField(_("made"))
    sent_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    sent_to = models.PositiveIntegerField(_("emailed to"), default=0)

    class Meta:
        ordering = ["-week"]
        verbose_name = _("weekly brief")
        verbose_name_plural = _("weekly briefs")

    @property
    def label(self) -> str:
        year, week, _day = self.week.isocalendar()
        return f"{year}-W{week:02d}"
