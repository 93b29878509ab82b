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


from hotline.outreach import admin_dialler  # noqa: E402,F401  (trunk registrations)
