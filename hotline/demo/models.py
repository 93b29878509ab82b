"""How far the demo's background load has got (``hotline.demo.background``).

The launcher writes the directory and staff before the web server starts and leaves the work
orders to the worker, which plays them in short transactions. This one row remembers what the
plan was (its seed, its size, the moment it was drawn against) and how many orders are in, so
a start interrupted half-way resumes where it stopped instead of loading the demo twice.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DemoLoad(models.Model):
    seed = models.IntegerField(_("seed"))
    orders_planned = models.PositiveIntegerField(_("orders planned"))
    orders_done = models.PositiveIntegerField(_("orders loaded"), default=0)
    # The "now" the orders' times were drawn against: every chunk replays the same plan.
    anchored_at = models.DateTimeField(_("anchored at"))
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # CPU seconds of every part so far, in whichever process ran it (what the demo costs).
    cpu_seconds = models.FloatField(_("CPU seconds"), default=0.0)

    class Meta:
        verbose_name = _("demo load")
        verbose_name_plural = _("demo loads")

    def __str__(self) -> str:
        return f"demo load {self.orders_done}/{self.orders_planned}"

    @property
    def finished(self) -> bool:
        return self.finished_at is not None
