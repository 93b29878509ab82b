"""A user's saved order-list filters: named query strings of the list page, theirs alone."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from hotline.core.errors import Conflict, InvalidInput, NotFound
from hotline.directory.models import User
from hotline.portal.models import SavedFilter

MAX_PER_USER = 30


def saved_filters(user: User) -> QuerySet[SavedFilter]:
    return SavedFilter.objects.filter(user=user).order_by("name")


def do_save_filter(user: User, name: str, query: str) -> SavedFilter:
    """Save (or overwrite, by name) the list's filters; ``query`` is already cleaned to the
    list's own keys (``order_export.clean_query``)."""
    name = name.strip()[:60]
    if not name:
        raise InvalidInput(_("Give the filter a name."), field="name")
    existing = SavedFilter.objects.filter(user=user, name=name).first()
    if existing is not None:
        existing.query = query
        existing.save(update_fields=["query"])
        return existing
    if saved_filters(user).count() >= MAX_PER_USER:
        raise InvalidInput(_("You have saved %(count)s filters; delete one first.")
                           % {"count": MAX_PER_USER}, field="name")
    try:
        with transaction.atomic():
            return SavedFilter.objects.create(user=user, name=name, query=query)
    except IntegrityError:
        raise Conflict(_("A filter with that name was just saved.")) from None


def do_delete_filter(user: User, filter_id: int) -> None:
    deleted, _rows = SavedFilter.objects.filter(pk=filter_id, user=user).delete()
    if not deleted:
        raise NotFound(_("No such saved filter."))
