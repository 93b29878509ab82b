from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from hotline.core import segmentation
from hotline.knowledge.models import Synonym
from hotline.knowledge.search import search_entries, voice_entries
from tests.knowledge.conftest import publish

if TYPE_CHECKING:
    from django.test import Client

    from tests.conftest import City

pytestmark = pytest.mark.django_db


def test_synonyms_managed_in_the_admin(city: City, client: Client) -> None:
    city.admin.is_staff = True
    city.admin.save()
    publish(city, title="供水公告", body="部分区域临时停水", keywords="")
    client.force_login(city.admin)
    response = client.post(reverse("admin:knowledge_synonym_add"),
                           {"term": "停水", "equivalents": "断供 没水"})
    assert response.status_code == 302
    assert Synonym.objects.get(term="停水").words() == ["停水", "断供", "没水"]
    assert "断供" in segmentation.user_words()  # loaded into the dictionary at once
    assert [h.version.title for h in search_entries(city.agent, "断供")] == ["供水公告"]
    assert client.get(reverse("admin:knowledge_entry_changelist")).status_code == 200
    # Department staff never reach the admin.
    city.handler.is_staff = True
    city.handler.save()
    client.force_login(city.handler)
    assert client.get(reverse("admin:knowledge_synonym_changelist")).status_code == 302


def test_voice_entries_are_public_and_marked(city: City) -> None:
    publish(city, title="停水怎么办", for_voice=True)
    publish(city, title="停水内部口径", for_voice=True, public=False)
    publish(city, title="停水公告", for_voice=False)
    assert [h.version.title for h in voice_entries("我家停水了")] == ["停水怎么办"]
