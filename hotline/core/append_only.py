"""Rows that are written once and never changed: the order history, the agents' state log,
the personal-data access log. The database refuses UPDATE and DELETE too (triggers in each
table's migration); this guard makes the ORM say so at once, with the table's own words."""

from __future__ import annotations

from typing import Any


class ImmutableError(Exception):
    """Raised when code tries to change or delete a recorded entry."""


class AppendOnly:
    """Mixin for a model (before ``models.Model`` in the bases) whose rows are only added."""

    changed_message = "this entry cannot be changed"
    deleted_message = "this entry cannot be deleted"

    _state: Any

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableError(self.changed_message)
        super().save(*args, **kwargs)  # type: ignore[misc]

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableError(self.deleted_message)
