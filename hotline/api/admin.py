"""Django admin for API tokens. Only the hash is stored: a new token is shown once, in the
message after saving; tokens are revoked, never edited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hotline.api.models import ApiToken, hash_token
from hotline.api.tokens import invalidate_tokens
from hotline.directory.admin import HotlineAdminMixin


@admin.register(ApiToken)
class ApiTokenAdmin(HotlineAdminMixin, admin.ModelAdmin):
    list_display = ("name", "user", "created_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    search_fields = ("name", "user__username")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    actions = ("revoke",)

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None:
            return ("user", "name")
        return ("user", "name", "key_hash", "created_at", "last_used_at", "revoked")

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if obj is None:
            return ()
        # An issued token is only ever revoked (the action), so every field is read-only.
        return ("user", "name", "key_hash", "created_at", "last_used_at", "revoked")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return
        secret = ApiToken.new_secret()
        obj.key_hash = hash_token(secret)
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            _("New token %(name)s: %(secret)s (copy it now; it is not shown again).")
            % {"name": obj.name, "secret": secret},
            messages.WARNING,
        )

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = queryset.filter(revoked=False).update(revoked=True)
        invalidate_tokens()  # a queryset update sends no post_save
        self.message_user(request, _("%(count)d token(s) revoked.") % {"count": count})
