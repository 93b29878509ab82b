"""Admin for the knowledge base: synonyms are managed here; entries, versions and their history
are read-only (entries are written through the department and review pages, which go through the
services and their workflow)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hotline.core import segmentation
from hotline.directory.admin import HotlineAdminMixin, ReadOnlyAdminMixin
from hotline.knowledge import indexing
from hotline.knowledge.models import Entry, EntryEvent, EntryVersion, SuggestionFeedback, Synonym


@admin.register(Synonym)
class SynonymAdmin(HotlineAdminMixin, admin.ModelAdmin):
    list_display = ("term", "equivalents")
    search_fields = ("term", "equivalents")
    allow_delete = True

    def save_model(self, request: HttpRequest, obj: Model, form: object, change: bool) -> None:
        super().save_model(request, obj, form, change)  # type: ignore[arg-type]
        # Synonyms are dictionary words too: load them now rather than at the next refresh.
        segmentation.reload_user_words()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        super().delete_queryset(request, queryset)
        segmentation.reload_user_words()


class EventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = EntryEvent
    extra = 0
    fields = ("created_at", "action", "from_state", "to_state", "actor_name", "note")
    readonly_fields = fields


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("title", "kind", "owner", "state", "public", "for_voice", "valid_until",
                    "updated_at")
    list_filter = ("state", "kind", "public", "for_voice", "owner")
    search_fields = ("title", "keywords")
    list_select_related = ("owner",)
    inlines = [EventInline]
    actions = ["rebuild_index"]

    @admin.action(description=_("Rebuild the knowledge search index"))
    def rebuild_index(self, request: HttpRequest, queryset: QuerySet) -> None:
        segmentation.reload_user_words()
        count = indexing.rebuild_entry_index()
        self.message_user(request, _("%(count)d published entries indexed.") % {"count": count},
                          messages.SUCCESS)

    def get_actions(self, request: HttpRequest) -> dict:
        # The read-only mixin hides actions with no change permission; this one only reads.
        actions = super().get_actions(request)
        if "rebuild_index" not in actions and self.has_view_permission(request):
            func, name, desc = self.get_action("rebuild_index")  # type: ignore[misc]
            actions[name] = (func, name, desc)
        return actions


@admin.register(EntryVersion)
class EntryVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("entry", "number", "title", "published_by", "published_at")
    search_fields = ("title",)
    list_select_related = ("entry", "published_by")


@admin.register(SuggestionFeedback)
class SuggestionFeedbackAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every "not what I need" mark, for whoever tunes synonyms and the threshold."""

    list_display = ("created_at", "entry", "query", "user_name")
    search_fields = ("query", "entry__title")
    list_select_related = ("entry",)
    date_hierarchy = "created_at"
