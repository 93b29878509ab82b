from __future__ import annotations

from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from django.db import IntegrityError

from hotline.orders import citizens
from hotline.orders.citizens import do_add_identity, find_or_register_citizen
from hotline.orders.contacts import NewContact, do_record_contact
from hotline.orders.models import Citizen, CitizenIdentity, IdentityKind

from .helpers import new_order

if TYPE_CHECKING:
    from tests.conftest import City


def test_the_phone_matches_in_any_spelling(db: None) -> None:
    first = find_or_register_citizen(phone="138 1234 1234", name="张三")
    again = find_or_register_citizen(phone="138-1234-1234")
    assert first is not None and again == first
    assert Citizen.objects.count() == 1 and first.phone == "13812341234"


def test_without_a_phone_the_email_matches_case_blind(db: None) -> None:
    first = find_or_register_citizen(email="Zhang@Example.cn")
    assert find_or_register_citizen(email="zhang@example.cn") == first


def test_a_new_phone_is_a_new_person_even_with_a_known_email(db: None) -> None:
    mother = find_or_register_citizen(phone="13812341234", email="home@example.cn")
    son = find_or_register_citizen(phone="13912345678", email="home@example.cn")
    assert son != mother


def test_channel_identities_match_and_are_added(db: None) -> None:
    chat = find_or_register_citizen(identities=[(IdentityKind.CHAT, "session-1")])
    assert chat is not None
    same = find_or_register_citizen(identities=[(IdentityKind.CHAT, "session-1"),
                                                (IdentityKind.DEVICE, "dev-9")])
    assert same == chat
    assert set(chat.identities.values_list("kind", "value")) == {
        ("chat", "session-1"), ("device", "dev-9")}
    assert find_or_register_citizen(identities=[(IdentityKind.DEVICE, "dev-9")]) == chat


def test_an_identity_never_changes_hands_silently(db: None) -> None:
    one = find_or_register_citizen(phone="13812341234")
    two = find_or_register_citizen(phone="13912345678")
    assert one is not None and two is not None
    assert do_add_identity(one, IdentityKind.OPEN311, "acct-1")
    assert not do_add_identity(two, IdentityKind.OPEN311, "acct-1")
    assert CitizenIdentity.objects.get(value="acct-1").citizen == one


def test_nothing_to_go_by_gives_none_unless_anonymous(db: None) -> None:
    assert find_or_register_citizen() is None
    assert find_or_register_citizen(anonymous=True) is not None


def test_returning_citizen_fills_blanks_never_overwrites(db: None) -> None:
    first = find_or_register_citizen(phone="13812341234", name="张三")
    assert first is not None
    find_or_register_citizen(phone="13812341234", name="李四", email="z@example.cn",
                             tags=["elderly"])
    first.refresh_from_db()
    assert (first.name, first.email, first.tags) == ("张三", "z@example.cn", ["elderly"])


def test_two_channels_one_phone_one_citizen(city: City) -> None:
    contact = do_record_contact(city.system, NewContact(channel="sms", citizen_phone="13812341234"))
    order = new_order(city.agent, citizen_phone="138-1234-1234")
    chat = do_record_contact(city.system, NewContact(
        channel="chat", citizen_phone="138 1234 1234", identities=[(IdentityKind.CHAT, "s-7")]))
    assert contact.citizen == order.citizen == chat.citizen
    assert Citizen.objects.filter(phone="13812341234").count() == 1
    assert CitizenIdentity.objects.get(kind="chat", value="s-7").citizen == contact.citizen


def test_an_order_matched_by_identity_joins_the_citizen(city: City) -> None:
    chat = do_record_contact(city.system, NewContact(
        channel="chat", identities=[(IdentityKind.CHAT, "s-8")], citizen_name="王五"))
    order = new_order(city.agent, citizen_phone="", citizen_identities=[(IdentityKind.CHAT, "s-8")])
    assert order.citizen == chat.citizen


def test_losing_the_race_finds_the_winner(db: None) -> None:
    """Another writer registers the phone between our look-up and our insert: the unique
    constraint refuses our row and the retry finds theirs."""
    winner: list[Citizen] = []
    real_find = citizens.find_citizen

    def find_then_race(*args: Any, **kwargs: Any) -> Citizen | None:
        found = real_find(*args, **kwargs)
        if found is None and not winner:
            winner.append(Citizen.objects.create(phone="13812341234", name="先到"))
        return found

    with mock.patch.object(citizens, "find_citizen", side_effect=find_then_race):
        got = find_or_register_citizen(phone="13812341234", name="后到")
    assert got == winner[0]
    assert Citizen.objects.filter(phone="13812341234").count() == 1


def test_keys_that_keep_changing_hands_give_up_loudly(db: None) -> None:
    with mock.patch.object(citizens, "find_citizen", return_value=None), \
            mock.patch.object(citizens, "_register", return_value=None), \
            pytest.raises(IntegrityError):
        find_or_register_citizen(phone="13812341234")
