"""Knowledge-base entries, their published versions, their workflow history, and synonyms.

An ``Entry`` is the working copy its owning unit edits. Publishing freezes it into an
``EntryVersion`` which is what agents and citizens read and what the search index holds, so a
revision in progress never hides or changes the published text. The search index tables
(FTS5 on SQLite, tsvector on PostgreSQL) are created by raw SQL in the migrations and written
only by ``hotline.knowledge.search``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.knowledge.workflow import EntryAction, EntryState


class EntryKind(models.TextChoices):
    POLICY = "policy", _("Policy")
    REGULATION = "regulation", _("Regulation")
    SERVICE_GUIDE = "guide", _("Service guide")
    DEPARTMENT = "department", _("Department functions")
    CITY_GUIDE = "city", _("City guide")
    FAQ = "faq", _("FAQ")


class State(models.TextChoices):
    DRAFT = EntryState.DRAFT.value, _("Draft")
    SUBMITTED = EntryState.SUBMITTED.value, _("Submitted for review")
    PUBLISHED = EntryState.PUBLISHED.value, _("Published")
    RETIRED = EntryState.RETIRED.value, _("Retired")


class Action(models.TextChoices):
    CREATE = EntryAction.CREATE.value, _("Created")
    EDIT = EntryAction.EDIT.value, _("Edited")
    SUBMIT = EntryAction.SUBMIT.value, _("Submitted")
    WITHDRAW = EntryAction.WITHDRAW.value, _("Withdrawn")
    PUBLISH = EntryAction.PUBLISH.value, _("Published")
    REJECT = EntryAction.REJECT.value, _("Rejected")
    REVISE = EntryAction.REVISE.value, _("Revision started")
    RETIRE = EntryAction.RETIRE.value, _("Retired")
    RESTORE = EntryAction.RESTORE.value, _("Restored")


class EntryVersion(models.Model):
    """A published version: immutable once written. What readers see and search finds."""

    entry = models.ForeignKey("Entry", on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))  # sanitised HTML
    keywords = models.CharField(_("keywords"), max_length=500, blank=True)
    public = models.BooleanField(_("public"))
    for_voice = models.BooleanField(_("may be read aloud by the IVR"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    category_codes = models.JSONField(_("categories"), default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("author"),
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("published by"),
    )
    published_at = models.DateTimeField(_("published"))

    class Meta:
        ordering = ["entry_id", "-number"]
        verbose_name = _("published version")
        verbose_name_plural = _("published versions")
        constraints = [
            models.UniqueConstraint(fields=["entry", "number"], name="kb_version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.number}"

    def is_valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or self.valid_until >= day
        )


class Entry(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)  # sanitised HTML (see richtext.py)
    keywords = models.CharField(_("keywords"), max_length=500, blank=True,
                                help_text=_("Words separated by spaces or commas."))
    owner = models.ForeignKey(
        "directory.Unit", on_delete=models.PROTECT, related_name="knowledge_entries",
        verbose_name=_("owner department"),
    )
    categories = models.ManyToManyField(
        "directory.Category", blank=True, related_name="knowledge_entries",
        verbose_name=_("categories"),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    public = models.BooleanField(_("public"), default=True,
                                 help_text=_("Shown to citizens on the portal."))
    for_voice = models.BooleanField(_("may be read aloud by the IVR"), default=False)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    published = models.ForeignKey(
        EntryVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("published version"),
    )
    review_note = models.TextField(_("reviewer's note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("last edited by"),
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("knowledge entry")
        verbose_name_plural = _("knowledge entries")
        indexes = [models.Index(fields=["state"], name="kb_entry_state")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_expired(self) -> bool:
        day = timezone.localdate()
        version = self.published
        valid_until = version.valid_until if version else self.valid_until
        return valid_until is not None and valid_until < day

    def keyword_list(self) -> list[str]:
        return split_keywords(self.keywords)


def split_keywords(text: str) -> list[str]:
    for sep in "，,、;；":
        text = text.replace(sep, " ")
    return [word for word in text.split() if word]


def readable_entries(day: dt.date | None = None, *, public_only: bool = False) -> QuerySet[Entry]:
    """Entries agents (or, with ``public_only``, citizens) may read today: a published version
    exists, the entry is not retired, and the published version is valid today."""
    day = day or timezone.localdate()
    qs = Entry.objects.filter(published__isnull=False).exclude(state=State.RETIRED)
    qs = qs.filter(Q(published__valid_from__isnull=True) | Q(published__valid_from__lte=day))
    qs = qs.filter(Q(published__valid_until__isnull=True) | Q(published__valid_until__gte=day))
    if public_only:
        qs = qs.filter(published__public=True)
    return qs


class EntryEvent(models.Model):
    """One step of an entry's workflow: who did what, when, and why (a rejection's reason)."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    from_state = models.CharField(_("from"), max_length=16, blank=True)
    to_state = models.CharField(_("to"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(_("actor"), max_length=150)
    note = models.TextField(_("note"), blank=True)
    version = models.ForeignKey(EntryVersion, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    created_at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["entry_id", "created_at", "id"]
        verbose_name = _("entry event")
        verbose_name_plural = _("entry events")


class Synonym(models.Model):
    """A term and its equivalents: a query for any of them also finds the others."""

    term = models.CharField(_("term"), max_length=64, unique=True)
    equivalents = models.CharField(
        _("equivalents"), max_length=500,
        help_text=_("Words that mean the same, separated by spaces or commas."),
    )

    class Meta:
        ordering = ["term"]
        verbose_name = _("synonym")
        verbose_name_plural = _("synonyms")

    def __str__(self) -> str:
        return f"{self.term} = {self.equivalents}"

    def words(self) -> list[str]:
        return [self.term.strip(), *split_keywords(self.equivalents)]


class SuggestionFeedback(models.Model):
    """An agent's "not what I need" (不是我要的) on a suggested entry: what was typed and who
    said so, kept for the entry's editors and for tuning the search (synonyms, threshold)."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="feedback",
                              verbose_name=_("knowledge entry"))
    query = models.TextField(_("what was typed"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("user"),
    )
    user_name = models.CharField(_("user"), max_length=150)
    created_at = models.DateTimeField(_("time"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("suggestion feedback")
        verbose_name_plural = _("suggestion feedback")
        indexes = [models.Index(fields=["entry", "created_at"], name="kb_feedback_entry_time")]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.query[:40]}"
