"""Django admin for the channels: what arrived (received messages with their kept payload),
what went out (mails, SMS) and their delivery, opt-outs, Open311 keys and how far the IMAP
poller has read its mailbox (its last error). The records are written by the channels only:
read-only here, except that a key can be revoked."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.directory.admin import HotlineAdminMixin, ReadOnlyAdminMixin
from hotline.intake.models import (
    MailboxLetter,
    Open311Key,
    OutboundMail,
    PolledMailbox,
    ReceivedMessage,
    SmsMessage,
    SmsOptOut,
)


@admin.register(ReceivedMessage)
class ReceivedMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("received_at", "channel", "outcome", "order", "reason", "raw_size")
    list_filter = ("channel", "outcome")
    search_fields = ("message_id", "order__number")
    date_hierarchy = "received_at"


@admin.register(MailboxLetter)
class MailboxLetterAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Withdrawing a letter from publication is done on the centre's page (/mailbox/), where the
    service checks the role and asks for the reason."""

    list_display = ("received_at", "title", "order", "publish_consent", "withdrawn_at")
    list_filter = ("publish_consent",)
    search_fields = ("order__number", "title")
    date_hierarchy = "received_at"


@admin.register(OutboundMail)
class OutboundMailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("sent_at", "purpose", "status", "order", "error")
    list_filter = ("status", "purpose")
    search_fields = ("order__number", "message_id")


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "direction", "purpose", "status", "parts", "provider", "order")
    list_filter = ("direction", "status", "purpose", "provider")
    search_fields = ("order__number", "provider_id")


@admin.register(SmsOptOut)
class SmsOptOutAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("phone", "at")
    search_fields = ("phone",)


@admin.register(PolledMailbox)
class PolledMailboxAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("account", "polled_at", "last_uid", "unread_only", "failures", "error")
    exclude = ("leased_until",)


@admin.register(Open311Key)
class Open311KeyAdmin(HotlineAdminMixin, admin.ModelAdmin):
    list_display = ("name", "created_at", "last_used_at", "revoked_at")
    fields = ("name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("name", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are issued by `manage.py issue_open311_key`, which shows them once

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request: HttpRequest, queryset: object) -> None:
        from django.db.models import QuerySet

        assert isinstance(queryset, QuerySet)
        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
