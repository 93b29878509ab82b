"""What the staff pages keep: a user's saved order filters, the background Excel exports of the
order list, and the centre's template of the assignment letter (交办单)."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

# What an assignment letter may say; each is filled in by ``portal.letters``.
LETTER_PLACEHOLDERS = (
    "number", "title", "text", "type", "category", "district", "address", "unit", "co_units",
    "sign_deadline", "deadline", "citizen", "phone", "date", "centre",
)


class SavedFilter(models.Model):
    """A named set of order-list filters (the list page's query string), one user's own."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="saved_filters", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        constraints = [models.UniqueConstraint(fields=["user", "name"],
                                               name="saved_filter_user_name")]

    def __str__(self) -> str:
        return self.name


class OrderExport(models.Model):
    """An Excel export of the order list too large to build while the browser waits: built by
    ``portal.tasks.build_order_export_task``, downloaded by its owner only."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="order_exports", verbose_name=_("user"))
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices,
                             default=State.QUEUED)
    total = models.PositiveIntegerField(_("rows to write"), default=0)
    done = models.PositiveIntegerField(_("rows written"), default=0)
    content = models.BinaryField(_("workbook"), blank=True, default=b"")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("order export")
        verbose_name_plural = _("order exports")

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return min(99, 100 * self.done // self.total) if self.total else 0


PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")


def check_placeholders(text: str) -> None:
    """Refuse a template naming a placeholder the letter cannot fill (a typo would print as
    is on every letter)."""
    unknown = sorted(set(PLACEHOLDER_RE.findall(text)) - set(LETTER_PLACEHOLDERS))
    if unknown:
        raise ValidationError(_("Unknown placeholders: %(names)s"),
                              params={"names": ", ".join(unknown)})


class LetterTemplate(models.Model):
    """The assignment letter (交办单) the centre sends with a dispatched order; the newest
    active row is used (``portal.letters``), the built-in text when there is none."""

    name = models.CharField(_("name"), max_length=100)
    heading = models.CharField(_("heading"), max_length=200)
    body = models.TextField(_("body"), help_text=_(
        "Plain text; a blank line starts a paragraph. Placeholders in braces: {number}, "
        "{title}, {text}, {type}, {category}, {district}, {address}, {unit}, {co_units}, "
        "{sign_deadline}, {deadline}, {citizen}, {phone}, {date}, {centre}."))
    signature = models.CharField(_("signature"), max_length=200, blank=True)
    active = models.BooleanField(_("in use"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("assignment letter template")
        verbose_name_plural = _("assignment letter templates")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        for text in (self.heading, self.body, self.signature):
            check_placeholders(text)
