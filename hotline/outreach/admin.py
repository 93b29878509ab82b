from django import forms
from django.contrib import admin

from hotline.outreach.models import CallAttempt, DoNotCall, OutboundCall, Trunk


class TrunkForm(forms.ModelForm):
    class Meta:
        model = Trunk
        fields = "__all__"
        # The stored password is never shown back; an empty field keeps it.
        widgets = {"password": forms.PasswordInput(render_value=False)}

    def clean_password(self) -> str:
        value = self.cleaned_data.get("password") or ""
        if not value and self.instance.pk:
            return self.instance.password
        return value


@admin.register(Trunk)
class TrunkAdmin(admin.ModelAdmin):
    form = TrunkForm
    list_display = ("name", "is_active", "registrar_host", "registrar_port", "caller_id",
                    "max_concurrent", "updated_at")


@admin.register(DoNotCall)
class DoNotCallAdmin(admin.ModelAdmin):
    list_display = ("phone", "reason", "added_at")
    search_fields = ("phone",)
    readonly_fields = ("added_by",)


@admin.register(OutboundCall)
class OutboundCallAdmin(admin.ModelAdmin):
    list_display = ("number", "purpose", "mode", "state", "outcome", "attempts", "next_try_at",
                    "created_at")
    list_filter = ("purpose", "state", "outcome")
    search_fields = ("number", "ref")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(CallAttempt)
class CallAttemptAdmin(admin.ModelAdmin):
    list_display = ("number", "purpose", "outcome", "sip_status", "started_at", "talk_seconds")
    list_filter = ("purpose", "outcome")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

from hotline.outreach import admin_surveys  # noqa: E402,F401  surveys and notifications

# --- appointments and partners (issue 13 items 8 and 9) --------------------------------------
from hotline.outreach.models_appointments import (  # noqa: E402
    BookableService,
    Booking,
    BookingEvent,
    ServiceWindow,
)
from hotline.outreach.models_partners import Partner, PartnerReview  # noqa: E402


class ServiceWindowInline(admin.TabularInline):
    model = ServiceWindow
    extra = 1


@admin.register(BookableService)
class BookableServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "slot_minutes", "capacity", "days_ahead", "active")
    list_filter = ("active", "unit")
    inlines = [ServiceWindowInline]


class BookingEventInline(admin.TabularInline):
    model = BookingEvent
    extra = 0
    can_delete = False
    readonly_fields = ("action", "from_state", "to_state", "actor_name", "note", "created_at")
    exclude = ("actor",)

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    """Read-only here: bookings change through the services (the appointments pages)."""

    list_display = ("pk", "service", "starts_at", "state", "channel", "reminder")
    list_filter = ("state", "channel", "service")
    exclude = ("code_hash",)
    inlines = [BookingEventInline]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    """The registry. The state changes on the partners pages only (review with a reason)."""

    list_display = ("name", "phone", "state", "counting_since")
    list_filter = ("state",)
    search_fields = ("name", "services")
    filter_horizontal = ("categories",)
    readonly_fields = ("state", "counting_since", "created_at")

    def save_model(self, request: object, obj: Partner, form: object, change: bool) -> None:
        if not change:
            from django.utils import timezone

            obj.created_at = obj.counting_since = timezone.now()
        super().save_model(request, obj, form, change)  # type: ignore[arg-type]


@admin.register(PartnerReview)
class PartnerReviewAdmin(admin.ModelAdmin):
    list_display = ("partner", "action", "automatic", "reason", "created_at")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

from hotline.outreach import (  # noqa: E402 - the admin modules register when imported
    admin_callbacks,  # noqa: F401  (call-back rules and tasks)
    admin_dialler,  # noqa: F401  (trunk registrations)
)
