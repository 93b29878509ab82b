"""Django admin for the organisation: units, districts, staff, the catalogue with its dispatch
routes, and the calendar overrides. Also the entry point of the admin for the whole project:
who may enter it at all (``is_hotline_admin``) is decided here, once.

Only superusers and centre administrators (role ``centre_admin`` with ``is_staff``) may use the
admin. Department staff never reach it, even if someone ticks ``is_staff`` on their account.
The admin is the system administrator's tool (三员分立, ``duties.may_change_directory``): the
security and audit administrators get nothing here, even with ``is_superuser`` ticked, and the
security settings (lockouts, second factors) and the logs are not in the admin at all.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotline.core.export_log import log_export
from hotline.core.roles import Role
from hotline.directory import importing
from hotline.directory.duties import may_change_directory
from hotline.directory.models import CalendarDay, Category, CategoryRoute, District, Unit, User


def is_hotline_admin(user: Any) -> bool:
    """Superusers, and centre administrators whose account is marked as staff: those who hold
    the directory duty (never a security or audit administrator)."""
    if not may_change_directory(user):
        return False
    return bool(user.is_superuser or user.is_staff)


def _site_has_permission(request: HttpRequest) -> bool:
    return is_hotline_admin(request.user)


# The root URLconf mounts Django's default site; narrow who may enter it (the default lets any
# ``is_staff`` account in).
admin.site.has_permission = _site_has_permission  # type: ignore[method-assign]
admin.site.site_header = _("12345 hotline administration")
admin.site.site_title = _("12345 hotline administration")
admin.site.index_title = _("Directory, catalogue and work orders")
# django-otp registers its devices here; resetting a second factor is the security
# administrator's duty (their settings page), not the system administrator's. (django-axes'
# lockouts and login records stay out of the admin through AXES_ENABLE_ADMIN = False.)
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


class HotlineAdminMixin:
    """Model permissions for the hotline's admins: centre administrators need no per-model
    Django permissions; everyone else gets nothing. Read-only admins turn off writes."""

    read_only = False
    allow_delete = False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_hotline_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_hotline_admin(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return not self.read_only and is_hotline_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return not self.read_only and is_hotline_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.allow_delete and not self.read_only and is_hotline_admin(request.user)


class ReadOnlyAdminMixin(HotlineAdminMixin):
    read_only = True


# --- districts and units -------------------------------------------------------------------

@admin.register(District)
class DistrictAdmin(HotlineAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Excel workbook (.xlsx)"),
        help_text=_("Sheets: districts, units, catalogue (any of them); see the column list."),
    )


@admin.register(Unit)
class UnitAdmin(HotlineAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "district", "phone", "active")
    list_filter = ("kind", "district", "active")
    search_fields = ("code", "name", "duties", "phone")
    list_select_related = ("parent", "district")
    autocomplete_fields = ("parent",)
    change_list_template = "admin/directory/unit/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        own = [
            path("import/", self.admin_site.admin_view(self.import_view),
                 name="directory_unit_import"),
            path("export/", self.admin_site.admin_view(self.export_view),
                 name="directory_unit_export"),
        ]
        return own + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a workbook; the same report as ``manage.py import_directory``."""
        if not self.has_change_permission(request):
            return HttpResponse(status=403)
        report = None
        if request.method == "POST":
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    report = importing.import_workbook(form.cleaned_data["file"])
                except importing.WorkbookError as exc:
                    form.add_error("file", str(exc))
                else:
                    level = messages.WARNING if report.errors else messages.SUCCESS
                    self.message_user(request, report.summary(), level)
        else:
            form = ImportForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import units and catalogue from Excel"),
            "form": form,
            "report": report,
            "columns": importing.COLUMN_HELP,
        }
        # A refused file (not a workbook, over a size, row or column limit) is a 422, not a 200.
        status = 422 if request.method == "POST" and form.errors else 200
        return TemplateResponse(request, "admin/directory/unit/import.html", context,
                                status=status)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        response = HttpResponse(
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="directory-{stamp}.xlsx"'
        importing.export_workbook(response)
        log_export(request.user, request, "directory workbook (units, staff)")
        return response


# --- staff ---------------------------------------------------------------------------------

@admin.register(User)
class StaffAdmin(HotlineAdminMixin, DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "unit", "extension", "is_active",
                    "is_staff")
    list_filter = ("role", "is_active", "is_staff", "unit__kind")
    search_fields = ("username", "display_name", "first_name", "last_name", "email", "extension")
    list_select_related = ("unit",)
    autocomplete_fields = ("unit",)
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Hotline"), {"fields": ("role", "unit", "display_name", "extension")}),
    )
    add_fieldsets = (
        *(DjangoUserAdmin.add_fieldsets or ()),
        (_("Hotline"), {"fields": ("role", "unit", "display_name", "extension")}),
    )

    # 三员分立: the system administrator keeps the directory, so the accounts of the other two
    # duties are out of their reach here (else resetting the audit administrator's password
    # would let them read the audit log). Those accounts are made and reset at the server's
    # console: ``manage.py duty_account``.
    DUTY_ROLES = (Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)

    def _protected(self, request: HttpRequest, obj: Model | None) -> bool:
        if obj is None:
            return False
        actor: Any = request.user
        holds_duty = getattr(obj, "role", None) in self.DUTY_ROLES
        return holds_duty or (bool(getattr(obj, "is_superuser", False)) and not actor.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and not self._protected(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not self._protected(request, obj)

    def formfield_for_choice_field(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "role":
            kwargs["choices"] = [(value, label) for value, label in Role.choices
                                 if value not in self.DUTY_ROLES]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        # Only a superuser may hand out superuser status or raw Django permissions.
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "groups", "user_permissions"]
        return fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Admin access follows the role: a department account never keeps is_staff.
        if not obj.is_superuser and obj.role != Role.CENTRE_ADMIN:
            obj.is_staff = False
        super().save_model(request, obj, form, change)


# --- catalogue -----------------------------------------------------------------------------

class RouteInline(admin.TabularInline):
    model = CategoryRoute
    extra = 0
    autocomplete_fields = ("lead_unit", "co_units")
    fields = ("district", "lead_unit", "co_units")

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_hotline_admin(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_hotline_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_hotline_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_hotline_admin(request.user)


class CategoryForm(forms.ModelForm):
    accepted_types = forms.TypedMultipleChoiceField(
        label=_("accepted order types"),
        choices=[],
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Category
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from hotline.directory.models import OrderType

        field = self.fields["accepted_types"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = OrderType.choices


@admin.register(Category)
class CategoryAdmin(HotlineAdminMixin, admin.ModelAdmin):
    form = CategoryForm
    list_display = ("code", "name", "level", "parent", "sign_limit_hours", "handle_limit_days",
                    "urgent_sign_limit_hours", "urgent_handle_limit_hours", "active")
    list_filter = ("level", "active")
    search_fields = ("code", "name", "keywords")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    inlines = (RouteInline,)


@admin.register(CategoryRoute)
class CategoryRouteAdmin(HotlineAdminMixin, admin.ModelAdmin):
    list_display = ("category", "district", "lead_unit", "co_handlers")
    list_filter = ("district",)
    search_fields = ("category__code", "category__name", "lead_unit__name")
    list_select_related = ("category", "district", "lead_unit")
    autocomplete_fields = ("category", "lead_unit", "co_units")
    allow_delete = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[CategoryRoute]:
        return super().get_queryset(request).prefetch_related("co_units")

    @admin.display(description=_("co-handling units"))
    def co_handlers(self, obj: CategoryRoute) -> str:
        return "、".join(unit.name for unit in obj.co_units.all())


@admin.register(CalendarDay)
class CalendarDayAdmin(HotlineAdminMixin, admin.ModelAdmin):
    """The centre records each year's holidays and make-up workdays the package lacks."""

    list_display = ("date", "is_workday", "note")
    list_filter = ("is_workday",)
    date_hierarchy = "date"
    search_fields = ("note",)
    allow_delete = True
