from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from hotline.core import segmentation
from hotline.knowledge import indexing


class Command(BaseCommand):
    help = ("Reload the segmentation dictionary from the catalogue and re-index every published "
            "knowledge entry (after bulk changes to categories, units, districts or synonyms).")

    def handle(self, *args: Any, **options: Any) -> None:
        words = segmentation.reload_user_words()
        count = indexing.rebuild_entry_index()
        self.stdout.write(f"dictionary words: {words}; entries indexed: {count}")
