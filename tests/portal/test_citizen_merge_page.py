"""The centre administrators' page that merges two records of one citizen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from hotline.orders.citizens import find_or_register_citizen
from hotline.orders.models import Citizen, CitizenMerge
from tests.conftest import verify_second_factor
from tests.portal.conftest import ensure_compiled_messages

if TYPE_CHECKING:
    from tests.conftest import City

PAGE = "/citizens/merge/"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    verify_second_factor(client, user)
    return client


@pytest.fixture
def two(city: City) -> tuple[Citizen, Citizen]:
    keep = find_or_register_citizen(phone="13812345678", name="张三丰")
    merge = find_or_register_citizen(email="zhang@example.cn", name="张三")
    assert keep is not None and merge is not None
    return keep, merge


def test_the_list_masks_personal_data(city: City, two: tuple[Citizen, Citizen]) -> None:
    response = client_for(city.admin).get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "138****5678" in body and "13812345678" not in body
    assert "张**" in body and "张三丰" not in body
    assert "z***@example.cn" in body and "zhang@example.cn" not in body


def test_search_by_phone(city: City, two: tuple[Citizen, Citizen]) -> None:
    body = client_for(city.admin).get(PAGE, {"q": "138 1234 5678"}).content.decode()
    assert "138****5678" in body and "z***@example.cn" not in body


def test_pick_confirm_merge(city: City, two: tuple[Citizen, Citizen]) -> None:
    keep, merge = two
    client = client_for(city.admin)
    confirm = client.post(PAGE, {"keep": keep.pk, "merge": merge.pk})
    assert confirm.status_code == 200 and 'name="confirm"' in confirm.content.decode()
    assert Citizen.objects.filter(pk=merge.pk).exists()  # nothing happens before confirming
    done = client.post(PAGE, {"keep": keep.pk, "merge": merge.pk, "confirm": "1"})
    assert done.status_code == 302
    assert not Citizen.objects.filter(pk=merge.pk).exists()
    assert CitizenMerge.objects.get().actor == city.admin


def test_merging_into_itself_is_refused_on_the_page(city: City, two: tuple[Citizen, Citizen]) -> None:
    keep, _merge = two
    ensure_compiled_messages()
    response = client_for(city.admin).post(
        PAGE, {"keep": keep.pk, "merge": keep.pk, "confirm": "1"}, follow=True,
        headers={"accept-language": "zh-hans"})
    assert Citizen.objects.filter(pk=keep.pk).exists() and not CitizenMerge.objects.exists()
    assert "不能将市民档案合并到其自身" in response.content.decode()


@pytest.mark.parametrize("who", ["agent", "monitor", "leader", "handler", "auditor",
                                 "audit_admin"])
def test_only_centre_admins_open_it(city: City, two: tuple[Citizen, Citizen], who: str) -> None:
    user = getattr(city, who)
    client = Client()
    client.force_login(user)
    keep, merge = two
    assert client.get(PAGE).status_code == 403
    client.post(PAGE, {"keep": keep.pk, "merge": merge.pk, "confirm": "1"})
    assert Citizen.objects.filter(pk=merge.pk).exists()
