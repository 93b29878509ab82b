"""Background work of the staff pages: building a large Excel export of the order list."""

from __future__ import annotations

from django_tasks import task

from hotline.portal.order_export import do_build_export


@task()
def build_order_export_task(export_id: int) -> int:
    """Build one queued export; returns its row count (0 when it was already taken)."""
    export = do_build_export(export_id)
    return export.done if export is not None else 0
