"""Appointments (预约服务): services a department lets citizens book, their opening windows per
weekday, the slots that have bookings (one row per slot, its ``taken`` count raised by a
conditional UPDATE so a slot never takes more than its capacity), the bookings and their
history. Slots themselves are computed (``hotline.outreach.slots``), not stored ahead."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.outreach.booking_states import BookingAction as PureAction
from hotline.outreach.booking_states import BookingState as PureState

__all__ = ["BookableService", "BookedSlot", "Booking", "BookingAction", "BookingChannel",
           "BookingEvent", "BookingState", "ReminderStatus", "ServiceWindow", "Weekday"]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class BookableService(models.Model):
    """A service a citizen books a time for (a hall's counter, a consultation)."""

    name = models.CharField(_("name"), max_length=128)
    description = models.TextField(_("description"), blank=True)
    unit = models.ForeignKey("directory.Unit", on_delete=models.PROTECT,
                             related_name="bookable_services", verbose_name=_("department"))
    place = models.CharField(_("place"), max_length=255, blank=True)
    slot_minutes = models.PositiveSmallIntegerField(_("slot length (minutes)"), default=30)
    capacity = models.PositiveSmallIntegerField(_("bookings per slot"), default=1)
    days_ahead = models.PositiveSmallIntegerField(_("bookable days ahead"), default=14)
    min_notice_minutes = models.PositiveIntegerField(_("minimum notice (minutes)"), default=60)
    active = models.BooleanField(_("bookable"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("bookable service")
        verbose_name_plural = _("bookable services")

    def __str__(self) -> str:
        return self.name


class ServiceWindow(models.Model):
    """One opening period of a service on a weekday (several per day are allowed)."""

    service = models.ForeignKey(BookableService, on_delete=models.CASCADE,
                                related_name="windows", verbose_name=_("service"))
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("opens"))
    end = models.TimeField(_("closes"))

    class Meta:
        ordering = ["service", "weekday", "start"]
        verbose_name = _("service window")
        verbose_name_plural = _("service windows")
        constraints = [models.CheckConstraint(condition=models.Q(end__gt=models.F("start")),
                                              name="window_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class BookedSlot(models.Model):
    """A slot that has (or had) bookings: ``taken`` active bookings of ``capacity``. Booking
    raises ``taken`` with one conditional UPDATE (taken < capacity), cancelling lowers it."""

    service = models.ForeignKey(BookableService, on_delete=models.PROTECT,
                                related_name="booked_slots", verbose_name=_("service"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    capacity = models.PositiveSmallIntegerField(_("capacity"))
    taken = models.PositiveSmallIntegerField(_("taken"), default=0)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("booked slot")
        verbose_name_plural = _("booked slots")
        constraints = [
            models.UniqueConstraint(fields=["service", "starts_at"], name="slot_unique_start"),
            models.CheckConstraint(condition=models.Q(taken__lte=models.F("capacity")),
                                   name="slot_within_capacity"),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.starts_at:%Y-%m-%d %H:%M}"


class BookingState(models.TextChoices):
    BOOKED = PureState.BOOKED.value, _("Booked")
    CANCELLED = PureState.CANCELLED.value, _("Cancelled")
    ATTENDED = PureState.ATTENDED.value, _("Attended")
    NO_SHOW = PureState.NO_SHOW.value, _("Did not come")


class BookingAction(models.TextChoices):
    BOOK = PureAction.BOOK.value, _("Booked")
    CANCEL = PureAction.CANCEL.value, _("Cancelled")
    ATTEND = PureAction.ATTEND.value, _("Attended")
    NO_SHOW = PureAction.NO_SHOW.value, _("Marked as not come")
    REMIND = PureAction.REMIND.value, _("Reminder")


class BookingChannel(models.TextChoices):
    PORTAL = "portal", _("Citizen portal")
    IVR = "ivr", _("Telephone self-service")
    AGENT = "agent", _("Agent for the caller")


class ReminderStatus(models.TextChoices):
    PENDING = "", _("Not yet")
    CLAIMED = "claimed", _("Being sent")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not sent (opted out or no phone)")
    FAILED = "failed", _("Failed")


class Booking(models.Model):
    service = models.ForeignKey(BookableService, on_delete=models.PROTECT,
                                related_name="bookings", verbose_name=_("service"))
    slot = models.ForeignKey(BookedSlot, on_delete=models.PROTECT, related_name="bookings",
                             verbose_name=_("slot"))
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    citizen = models.ForeignKey("orders.Citizen", on_delete=models.PROTECT,
                                related_name="bookings", verbose_name=_("citizen"))
    phone = models.CharField(_("phone"), max_length=32, db_index=True)
    name = models.CharField(_("name"), max_length=64, blank=True)
    channel = models.CharField(_("booked through"), max_length=8,
                               choices=BookingChannel.choices)
    state = models.CharField(_("state"), max_length=10, choices=BookingState.choices,
                             default=BookingState.BOOKED, db_index=True)
    # The cancellation code sent to the citizen, kept only as a keyed hash.
    code_hash = models.CharField(max_length=64)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("booked by"))
    created_at = models.DateTimeField(_("booked at"))
    reminder = models.CharField(_("reminder"), max_length=8, choices=ReminderStatus.choices,
                                default=ReminderStatus.PENDING, blank=True)
    reminder_at = models.DateTimeField(_("reminder time"), null=True, blank=True)
    closed_at = models.DateTimeField(_("cancelled or marked"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("cancelled or marked by"))
    close_note = models.CharField(_("reason"), max_length=255, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        indexes = [models.Index(fields=["state", "reminder", "starts_at"],
                                name="booking_reminder_due")]

    def __str__(self) -> str:
        return f"{self.service} {self.starts_at:%Y-%m-%d %H:%M} {self.get_state_display()}"


class BookingEvent(models.Model):
    """What happened to a booking, who did it, when: written by the services only, never
    changed (the booking's history)."""

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="events",
                                verbose_name=_("booking"))
    action = models.CharField(_("action"), max_length=10, choices=BookingAction.choices)
    from_state = models.CharField(_("from"), max_length=10, blank=True)
    to_state = models.CharField(_("to"), max_length=10)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("by"))
    actor_name = models.CharField(_("by"), max_length=150)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["booking", "created_at", "pk"]
        verbose_name = _("booking event")
        verbose_name_plural = _("booking events")
