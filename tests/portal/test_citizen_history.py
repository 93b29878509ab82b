"""One history: staff find a citizen by phone or email and see their contacts on every channel;
the order page shows the same history; searching and opening are logged; a sub-centre sees only
its part, a department nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.test import Client

from hotline.intake.messages import InboundMessage
from hotline.intake.services import do_receive
from hotline.orders.contacts import NewContact, do_record_contact
from hotline.orders.models import AccessKind, AccessLog, Citizen, Order
from tests.api.conftest import new_order
from tests.conftest import verify_second_factor

if TYPE_CHECKING:
    from tests.conftest import City

PHONE = "13812341234"
EMAIL = "zhangsan@example.cn"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    verify_second_factor(client, user)
    return client


def _one_citizen_on_three_channels(city: City) -> tuple[Citizen, Order]:
    order = new_order(city, citizen_phone=PHONE, citizen_name="张三")
    citizen = order.citizen
    citizen.email = EMAIL
    citizen.save(update_fields=["email"])
    do_record_contact(city.agent, NewContact(channel="phone", citizen_phone=PHONE,
                                             summary="来电询问停水何时恢复"))
    do_receive(InboundMessage(channel="sms", text="停水还没恢复，请尽快处理", sender_phone=PHONE,
                              message_id="sms-1", create_order=False))
    do_receive(InboundMessage(channel="email", text="小区门口路灯坏了", subject="路灯",
                              sender_email=EMAIL, message_id="<m1@example.cn>"))
    return citizen, order


def test_search_by_phone_lists_the_citizen_masked_and_is_logged(city: City) -> None:
    citizen, _order = _one_citizen_on_three_channels(city)
    response = client_for(city.agent).get("/citizens/", {"q": "138 1234 1234"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "138****1234" in body and PHONE not in body
    assert f"/citizens/{citizen.pk}/" in body
    entry = AccessLog.objects.get(kind=AccessKind.CITIZEN_SEARCH)
    assert entry.user == city.agent and "13812341234" in entry.detail


def test_search_by_email_finds_the_same_person(city: City) -> None:
    citizen, _order = _one_citizen_on_three_channels(city)
    body = client_for(city.monitor).get("/citizens/", {"q": EMAIL.upper()}).content.decode()
    assert f"/citizens/{citizen.pk}/" in body


def test_a_query_too_short_is_a_clear_422(city: City) -> None:
    response = client_for(city.agent).get("/citizens/", {"q": "1"})
    assert response.status_code == 422
    assert "at least two characters" in response.content.decode()
    assert not AccessLog.objects.filter(kind=AccessKind.CITIZEN_SEARCH).exists()


def test_the_record_shows_every_channel_in_full_and_is_logged(city: City) -> None:
    citizen, order = _one_citizen_on_three_channels(city)
    response = client_for(city.agent).get(f"/citizens/{citizen.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert PHONE in body and EMAIL in body
    assert "来电询问停水何时恢复" in body and "停水还没恢复" in body and "小区门口路灯坏了" in body
    email_order = Order.objects.get(channel="email")
    assert order.number in body and email_order.number in body
    assert AccessLog.objects.filter(kind=AccessKind.CITIZEN_VIEW, citizen_id=citizen.pk,
                                    user=city.agent).exists()


def test_the_order_page_shows_the_contacts_on_other_channels(city: City) -> None:
    citizen, order = _one_citizen_on_three_channels(city)
    body = client_for(city.agent).get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="order-citizen-contacts"' in body
    assert "停水还没恢复" in body and "小区门口路灯坏了" in body
    assert f"/citizens/{citizen.pk}/" in body


def test_a_department_sees_no_history_and_no_registry(city: City) -> None:
    citizen, order = _one_citizen_on_three_channels(city)
    from hotline.orders.services import do_action

    do_action(city.agent, order.number, "dispatch")
    handler = client_for(city.handler)
    body = handler.get(f"/orders/{order.number}/").content.decode()
    assert "小区门口路灯坏了" not in body and 'data-testid="order-citizen-contacts"' not in body
    assert handler.get("/citizens/", {"q": PHONE}).status_code == 403
    assert handler.get(f"/citizens/{citizen.pk}/").status_code == 403


def test_a_sub_centre_finds_its_district_callers_but_never_a_reporter(city: City) -> None:
    complaint = new_order(city, citizen_phone="13900000001", citizen_name="李四")
    report = new_order(city, type="report", citizen_phone="13900000002",
                       citizen_name="王五", title="举报违建", text="举报鼓楼区某处违建")
    elsewhere = new_order(city, citizen_phone="13900000003", citizen_name="赵六",
                          district="taijiang")
    sub = client_for(city.sub_agent)
    found = sub.get("/citizens/", {"q": "139000000"}).content.decode()
    assert f"/citizens/{complaint.citizen_id}/" in found
    assert f"/citizens/{report.citizen_id}/" not in found
    assert f"/citizens/{elsewhere.citizen_id}/" not in found
    assert sub.get(f"/citizens/{report.citizen_id}/").status_code == 404
    assert sub.get(f"/citizens/{elsewhere.citizen_id}/").status_code == 404
    page = sub.get(f"/citizens/{complaint.citizen_id}/").content.decode()
    assert complaint.number in page and 'id="citizen-history-limited"' in page
