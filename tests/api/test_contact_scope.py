"""Finding 2 of issue 10: a new order links an existing contact (a call in progress) only when
the contact is in the caller's scope. Contact ids are sequential: an id of another district's
call is refused exactly like an id that does not exist (404, same message), so nobody can
attach someone else's call, its citizen and its summary to an order of their own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotline.core.errors import NotFound
from hotline.orders.contacts import NewContact, do_link_contact, do_record_contact
from hotline.orders.models import Contact
from tests.api.conftest import ApiClient, new_order

if TYPE_CHECKING:
    from tests.conftest import City

BODY = {"type": "complaint", "channel": "phone", "title": "噪声", "text": "楼下装修噪声",
        "district": "gulou"}


def _taijiang_call(city: City) -> Contact:
    """A call a centre agent took about 台江: its caller and summary are not 鼓楼's business."""
    contact = do_record_contact(city.agent, NewContact(
        channel="phone", citizen_phone="13700007777", citizen_name="陈秘密", summary="台江来电：举报"))
    new_order(city, district="taijiang", contact_id=contact.pk, citizen_phone="13700007777")
    return contact


def test_another_districts_contact_is_404_like_an_unknown_id(city: City) -> None:
    contact = _taijiang_call(city)
    client = ApiClient(city.sub_agent)
    foreign = client.post("/orders", {**BODY, "contact_id": contact.pk})
    unknown = client.post("/orders", {**BODY, "contact_id": contact.pk + 1000})
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == {"detail": f"no contact {contact.pk}", "field": "contact_id"}
    assert unknown.json() == {"detail": f"no contact {contact.pk + 1000}", "field": "contact_id"}
    assert "陈秘密" not in foreign.content.decode() and "台江来电" not in foreign.content.decode()
    assert contact.orders.count() == 1  # nothing was attached


def test_own_and_visible_contacts_link(city: City) -> None:
    own = do_record_contact(city.sub_agent, NewContact(channel="phone", citizen_phone="13600006666",
                                                       summary="鼓楼来电"))
    client = ApiClient(city.sub_agent)
    made = client.post("/orders", {**BODY, "contact_id": own.pk})
    assert made.status_code == 201, made.content
    # A contact of an order the sub-centre sees (its district) links too.
    gulou = do_record_contact(city.agent, NewContact(channel="phone", citizen_phone="13600005555",
                                                     summary="鼓楼又一来电"))
    new_order(city, district="gulou", contact_id=gulou.pk, citizen_phone="13600005555")
    assert client.post("/orders", {**BODY, "contact_id": gulou.pk}).status_code == 201


def test_the_centre_links_any_contact(city: City) -> None:
    contact = _taijiang_call(city)
    r = ApiClient(city.monitor).post("/orders", {**BODY, "contact_id": contact.pk})
    assert r.status_code == 201, r.content


def test_linking_a_contact_to_an_order_checks_its_scope(city: City) -> None:
    contact = _taijiang_call(city)
    mine = new_order(city, district="gulou")
    try:
        do_link_contact(city.sub_agent, contact, mine.number)
    except NotFound as exc:
        assert exc.message == f"no contact {contact.pk}"
    else:  # pragma: no cover - the finding
        raise AssertionError("a foreign contact was linked")
    assert not contact.orders.filter(pk=mine.pk).exists()
