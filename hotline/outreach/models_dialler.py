"""What each gateway's outbound dialler reports about its trunk: one row per gateway, written
when the registration changes and every minute, so staff see in the admin whether the trunk
is registered, why not, and how many outbound calls the gateway holds."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["TrunkStatus"]


class TrunkStatus(models.Model):
    class State(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        REGISTERING = "registering", _("Registering")
        FAILED = "failed", _("Registration failed")
        NOT_REGISTERING = "static", _("No registration (static trunk)")
        NO_TRUNK = "no_trunk", _("No trunk configured")

    gateway = models.CharField(_("gateway"), max_length=64, unique=True)
    trunk = models.ForeignKey("outreach.Trunk", on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="statuses", verbose_name=_("SIP trunk"))
    trunk_name = models.CharField(_("trunk"), max_length=64, blank=True)
    state = models.CharField(_("registration"), max_length=12, choices=State.choices)
    sip_status = models.PositiveSmallIntegerField(_("last SIP status"), default=0)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    registered_at = models.DateTimeField(_("registered"), null=True, blank=True)
    expires_at = models.DateTimeField(_("registration expires"), null=True, blank=True)
    active_calls = models.PositiveIntegerField(_("outbound calls now"), default=0)
    max_concurrent = models.PositiveIntegerField(_("concurrent limit"), default=0)
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        ordering = ["gateway"]
        verbose_name = _("trunk registration")
        verbose_name_plural = _("trunk registrations")

    def __str__(self) -> str:
        return f"{self.gateway}: {self.get_state_display()}"
