from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.core.errors import Forbidden, InvalidInput, NotFound
from hotline.orders.contacts import NewContact, citizen_history, do_link_contact, do_record_contact
from hotline.orders.services import do_action

from .helpers import new_order

if TYPE_CHECKING:
    from tests.conftest import City


def test_contacts_on_every_channel_share_one_citizen(city: City) -> None:
    call = do_record_contact(city.agent, NewContact(channel="phone", citizen_phone="13812341234",
                                                    summary="咨询社保转移"))
    sms = do_record_contact(city.system, NewContact(channel="sms", citizen_phone="138 1234 1234"))
    mail = do_record_contact(city.agent, NewContact(channel="email", citizen_email="a@example.cn"))
    assert call.citizen == sms.citizen
    assert mail.citizen is not None and mail.citizen != call.citizen
    order = new_order(city.agent, citizen_phone="13812341234")
    assert order.citizen == call.citizen
    orders, contacts = citizen_history(city.agent, call.citizen)
    assert list(orders) == [order]
    assert {c.channel for c in contacts} == {"phone", "sms"}


def test_open_orders_come_first_in_the_history(city: City) -> None:
    closed = new_order(city.agent)
    do_action(city.agent, closed.number, "answer", {"reply": "已答复"})
    open_order = new_order(city.agent)
    newest_closed = new_order(city.agent)
    do_action(city.agent, newest_closed.number, "answer", {"reply": "已答复"})
    orders, _ = citizen_history(city.agent, open_order.citizen)
    assert [o.pk for o in orders] == [open_order.pk, newest_closed.pk, closed.pk]


def test_link_a_repeat_call_to_an_open_order(city: City) -> None:
    order = new_order(city.agent)
    call = do_record_contact(city.agent, NewContact(channel="phone", citizen_phone="13812341234",
                                                    summary="催问进度"))
    do_link_contact(city.agent, call, order.number)
    assert order.contacts.count() == 2  # type: ignore[attr-defined]  # Contact.orders' reverse
    with pytest.raises(NotFound):
        do_link_contact(city.agent, call, "00000000")


def test_departments_neither_record_contacts_nor_read_whole_histories(city: City) -> None:
    with pytest.raises(Forbidden):
        do_record_contact(city.handler, NewContact(channel="phone"))
    order = new_order(city.agent)
    with pytest.raises(Forbidden):
        citizen_history(city.handler, order.citizen)


def test_bad_channel_is_refused(city: City) -> None:
    with pytest.raises(InvalidInput) as info:
        do_record_contact(city.agent, NewContact(channel="telegram"))
    assert info.value.field == "channel"


def test_the_first_answering_agent_becomes_the_contacts_agent(city: City) -> None:
    from hotline.orders.contacts import do_set_contact_agent

    contact = do_record_contact(city.system, NewContact(channel="phone",
                                                        citizen_phone="13812341234"))
    assert contact.agent is None
    assert do_set_contact_agent(contact.pk, city.agent.pk)
    assert not do_set_contact_agent(contact.pk, city.monitor.pk)  # a transfer keeps the first
    assert not do_set_contact_agent(contact.pk, None)
    contact.refresh_from_db()
    assert contact.agent == city.agent
