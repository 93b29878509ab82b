"""Districts and categories by code come from the reference cache; a change takes effect."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hotline.directory.lookups import active_category_by_code, district_by_code
from hotline.directory.models import Category, District

if TYPE_CHECKING:
    from tests.conftest import City

pytestmark = pytest.mark.django_db(transaction=True)


def _district(code: str) -> District:
    found = district_by_code(code)
    assert found is not None
    return found


def _category(code: str) -> Category:
    found = active_category_by_code(code)
    assert found is not None
    return found


def test_a_district_is_read_once(city: City) -> None:
    assert _district("gulou").pk == city.gulou.pk
    with CaptureQueriesContext(connection) as queries:
        found = district_by_code("gulou")
    assert found is not None and found.name == "鼓楼区" and len(queries) == 0


def test_a_renamed_or_deleted_district_takes_effect(city: City) -> None:
    assert _district("gulou").name == "鼓楼区"
    city.gulou.name = "新鼓楼区"
    city.gulou.save()
    assert _district("gulou").name == "新鼓楼区"
    extra = District.objects.create(code="cangshan", name="仓山区")
    assert district_by_code("cangshan") is not None
    extra.delete()
    assert district_by_code("cangshan") is None


def test_an_unknown_district_created_later_is_found(city: City) -> None:
    assert district_by_code("mawei") is None  # misses are not cached
    District.objects.create(code="mawei", name="马尾区")
    assert _district("mawei").name == "马尾区"


def test_callers_get_copies(city: City) -> None:
    _district("gulou").name = "changed by a caller"
    assert _district("gulou").name == "鼓楼区"


def test_a_retired_or_changed_category_takes_effect(city: City) -> None:
    assert _category("100101").accepted_types == city.cat_outage.accepted_types
    city.cat_outage.accepted_types = ["consultation"]
    city.cat_outage.save()
    assert _category("100101").accepted_types == ["consultation"]
    city.cat_outage.active = False
    city.cat_outage.save()
    assert active_category_by_code("100101") is None


def test_a_category_deleted_takes_effect(city: City) -> None:
    extra = Category.objects.create(code="999901", name="临时", level=3)
    assert active_category_by_code("999901") is not None
    extra.delete()
    assert active_category_by_code("999901") is None
