"""Finding 2 of issue 10, the page path: the desk's order form links the call's contact through
the same scope check as the API (``get_contact_for``)."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.contactcentre.services import do_call_answered
from hotline.orders.models import Contact, Order
from tests.desk import test_desk_views as views_fixtures
from tests.desk.test_desk_orders import post_order
from tests.desk.test_desk_views import as_user, ring

_english = views_fixtures._english
phones = views_fixtures.phones

pytestmark = pytest.mark.django_db


def test_a_call_whose_contact_another_unit_took_is_refused(phones: Any) -> None:
    call = do_call_answered(ring(phones, phones.sub_agent).pk)
    # The contact was taken by the water department's handler: not the sub-centre's.
    assert call.contact_id is not None
    Contact.objects.filter(pk=call.contact_id).update(agent=phones.handler)
    response = post_order(as_user(phones.sub_agent), call, "save")
    assert response.status_code == 404
    assert f"no contact {call.contact_id}" in response.content.decode()
    assert not Order.objects.exists()


def test_the_agent_who_took_the_call_links_it(phones: Any) -> None:
    call = do_call_answered(ring(phones, phones.sub_agent).pk)
    # The gateway records who answered (voice.acd_services.answered).
    assert call.contact_id is not None
    Contact.objects.filter(pk=call.contact_id).update(agent=phones.sub_agent)
    response = post_order(as_user(phones.sub_agent), call, "save")
    assert response.status_code == 200, response.content.decode()
    order = Order.objects.get()
    contacts = order.contacts.values_list("pk", flat=True)  # type: ignore[attr-defined]
    assert list(contacts) == [call.contact_id]
