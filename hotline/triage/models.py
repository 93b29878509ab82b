"""Trained category classifiers (one row per version) and the suggestion each order got.

The model file itself lives on disk (``HOTLINE_TRIAGE_MODEL_DIR``); the row says what it was
trained on, how well it did on orders it had not seen, and whether it is the one in use.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.orders.models import Order


class ModelStatus(models.TextChoices):
    READY = "ready", _("Ready")
    ACTIVE = "active", _("In use")
    RETIRED = "retired", _("Retired")
    FAILED = "failed", _("Failed")


class ClassifierVersion(models.Model):
    version = models.PositiveIntegerField(_("version"), unique=True)
    status = models.CharField(_("status"), max_length=8, choices=ModelStatus.choices,
                              default=ModelStatus.READY)
    created_at = models.DateTimeField(_("trained"))
    file = models.CharField(_("model file"), max_length=255, blank=True)
    trigger = models.CharField(_("started by"), max_length=64, blank=True)
    n_train = models.PositiveIntegerField(_("training orders"), default=0)
    n_test = models.PositiveIntegerField(_("held-out orders"), default=0)
    n_labels = models.PositiveIntegerField(_("categories learnt"), default=0)
    data_until = models.DateTimeField(_("history up to"), null=True, blank=True)
    macro_f1 = models.FloatField(_("macro-F1"), null=True, blank=True)
    accuracy = models.FloatField(_("accuracy"), null=True, blank=True)
    top3_accuracy = models.FloatField(_("top-3 accuracy"), null=True, blank=True)
    train_seconds = models.FloatField(_("training time (s)"), null=True, blank=True)
    ms_per_message = models.FloatField(_("ms per message"), null=True, blank=True)
    per_label = models.JSONField(_("per-category figures"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("classifier version")
        verbose_name_plural = _("classifier versions")
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="active"),
                name="classifier_one_active",
            )
        ]

    def __str__(self) -> str:
        return f"v{self.version}"


class OrderSuggestion(models.Model):
    """The categories the classifier suggested for an order when it came in, kept so the
    centre can see how often agents end up choosing what was suggested."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="suggestion",
                                 primary_key=True)
    model = models.ForeignKey(ClassifierVersion, on_delete=models.CASCADE, related_name="+")
    suggested = models.JSONField(_("suggested categories"), default=list)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("category suggestion")
        verbose_name_plural = _("category suggestions")
