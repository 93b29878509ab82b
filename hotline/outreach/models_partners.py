"""Partners (the 96180 model): service providers the centre hands orders to, the citizens'
ratings of their service, and the centre's suspensions and reinstatements. A partner rated
dissatisfied ``HOTLINE_PARTNER_SUSPEND_AFTER`` times since its registration or last
reinstatement is suspended automatically (seed 001) and gets no new orders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.orders.models import Satisfaction
from hotline.outreach.partner_states import PartnerAction as PureAction
from hotline.outreach.partner_states import PartnerState as PureState

__all__ = ["Partner", "PartnerAction", "PartnerAssignment", "PartnerRating", "PartnerReview",
           "PartnerState", "RatingSource"]


class PartnerState(models.TextChoices):
    ACTIVE = PureState.ACTIVE.value, _("Active")
    SUSPENDED = PureState.SUSPENDED.value, _("Suspended")


class PartnerAction(models.TextChoices):
    SUSPEND = PureAction.SUSPEND.value, _("Suspended")
    REINSTATE = PureAction.REINSTATE.value, _("Reinstated")


class Partner(models.Model):
    name = models.CharField(_("name"), max_length=128, unique=True)
    services = models.TextField(_("services offered"))
    categories = models.ManyToManyField("directory.Category", blank=True, related_name="+",
                                        verbose_name=_("categories served"))
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32)
    address = models.CharField(_("address"), max_length=255, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=PartnerState.choices,
                             default=PartnerState.ACTIVE, db_index=True)
    # Dissatisfied ratings count from here: registration, then each reinstatement.
    counting_since = models.DateTimeField(_("ratings counted since"))
    created_at = models.DateTimeField(_("registered"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self) -> str:
        return self.name


class PartnerAssignment(models.Model):
    """An order handed to a partner by the centre (one partner once per order)."""

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT,
                              related_name="partner_assignments", verbose_name=_("order"))
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="assignments",
                                verbose_name=_("partner"))
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("assigned by"))
    assigned_at = models.DateTimeField(_("assigned"))
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["-assigned_at"]
        verbose_name = _("partner assignment")
        verbose_name_plural = _("partner assignments")
        constraints = [models.UniqueConstraint(fields=["order", "partner"],
                                               name="partner_once_per_order")]


class RatingSource(models.TextChoices):
    PORTAL = "portal", _("Citizen's rating link")
    CALLBACK = "callback", _("Call back answer")
    STAFF = "staff", _("Recorded by staff")


class PartnerRating(models.Model):
    """The citizen's rating of one assignment (one per assignment: a second is refused)."""

    assignment = models.OneToOneField(PartnerAssignment, on_delete=models.PROTECT,
                                      related_name="rating", verbose_name=_("assignment"))
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="ratings",
                                verbose_name=_("partner"))
    satisfaction = models.CharField(_("satisfaction"), max_length=16,
                                    choices=Satisfaction.choices)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=RatingSource.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("recorded by"))
    created_at = models.DateTimeField(_("rated"), db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("partner rating")
        verbose_name_plural = _("partner ratings")


class PartnerReview(models.Model):
    """A suspension (automatic or by the centre) or a reinstatement, with its reason: the
    partner's history. Written by the services only, never changed."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="reviews",
                                verbose_name=_("partner"))
    action = models.CharField(_("action"), max_length=10, choices=PartnerAction.choices)
    from_state = models.CharField(_("from"), max_length=10)
    to_state = models.CharField(_("to"), max_length=10)
    automatic = models.BooleanField(_("automatic"), default=False)
    reason = models.CharField(_("reason"), max_length=500)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("by"))
    created_at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("partner review")
        verbose_name_plural = _("partner reviews")
