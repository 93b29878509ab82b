""""Not what I need" (不是我要的): agents mark a suggested entry that did not answer what they
typed. The row (entry, text, who, when) is for the entry's editors, who see it on the entry's
page, and for whoever tunes the search (synonyms, ``HOTLINE_KB_MIN_SCORE``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.core.errors import Forbidden, InvalidInput, NotFound
from hotline.core.masking import mask_personal_details
from hotline.directory.models import User
from hotline.knowledge.models import Entry, SuggestionFeedback, readable_entries
from hotline.knowledge.services import is_reviewer, may
from hotline.knowledge.workflow import EntryAction

# Those who are offered suggestions while registering and answering (the centre's desk).
FEEDBACK_ROLES = frozenset({"agent", "monitor", "centre_admin"})
MAX_QUERY = 2000
SHOWN = 50


def may_give_feedback(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and (
        user.is_superuser or user.role in FEEDBACK_ROLES))


def may_read_feedback(user: Any, entry: Entry) -> bool:
    """The entry's editors: the centre's reviewers and the owning unit's authors."""
    return is_reviewer(user) or may(user, EntryAction.EDIT, entry)


def do_record_not_helpful(actor: User, entry_id: int, query: str,
                          now: dt.datetime | None = None) -> SuggestionFeedback:
    if not may_give_feedback(actor):
        raise Forbidden(_("You may not give feedback on suggestions."))
    text = " ".join((query or "").split())
    if not text:
        raise InvalidInput(_("Say what was typed when the entry was suggested."), "text")
    if len(text) > MAX_QUERY:
        raise InvalidInput(_("The text is too long."), "text")
    entry = readable_entries().filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(_("No such entry."))
    # Kept masked: what an agent typed may hold a caller's number, which tuning never needs.
    return SuggestionFeedback.objects.create(
        entry=entry, query=mask_personal_details(text), user=actor,
        user_name=actor.display_name or actor.get_username(), created_at=now or timezone.now())


def feedback_for(user: Any, entry: Entry) -> tuple[int, list[SuggestionFeedback]]:
    """How many times the entry was marked and the latest marks; nothing for those who do not
    edit it."""
    if not may_read_feedback(user, entry):
        return 0, []
    rows: QuerySet[SuggestionFeedback] = entry.feedback.all()
    return rows.count(), list(rows[:SHOWN])
