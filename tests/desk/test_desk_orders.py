"""The order form beside the pop: prefilled from the call, the three one-click outcomes (直接办结,
派单, 暂无法答复 with a call back), the call backs list, and call recordings attached to the
orders made on the call (idempotently)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from hotline.contactcentre.callbacks import (
    attach_call_recordings,
    attach_recording_to_orders,
    do_mark_called_back,
    do_order_from_call,
)
from hotline.contactcentre.models import CallRecording, QueuedCall, ScheduledCallback
from hotline.contactcentre.services import do_call_ended
from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.orders.models import Attachment, Contact, Order
from hotline.orders.services import NewOrder
from tests.desk import test_desk_views as views_fixtures
from tests.desk.test_desk_views import CALLER, as_user

# The shared desk fixtures (pytest finds them as names of this module).
_english = views_fixtures._english
answered = views_fixtures.answered
offered = views_fixtures.offered
phones = views_fixtures.phones

pytestmark = pytest.mark.django_db


def order_post(call: QueuedCall, outcome: str, **fields: Any) -> dict[str, Any]:
    data = {
        "type": "complaint", "channel": "phone", "urgency": "normal",
        "citizen_name": "刘大爷", "citizen_phone": CALLER, "title": "小区停水",
        "text": "鼓楼区东街1号停水两天", "address": "鼓楼区东街1号", "district": "gulou",
        "category": "100101", "idempotency_key": f"key-{call.pk}-{outcome}",
        "outcome": outcome,
    }
    data.update(fields)
    return data


def post_order(client: Any, call: QueuedCall, outcome: str, **fields: Any) -> Any:
    return client.post(reverse("desk:call_order", args=[call.pk]),
                       order_post(call, outcome, **fields))


def add_recording(call: QueuedCall, data: bytes) -> CallRecording:
    recording = CallRecording(contact=call.contact, call=call, seconds=3.0, size=len(data),
                              sha256=hashlib.sha256(data).hexdigest(), created_at=timezone.now())
    recording.file.save("call.wav", ContentFile(data), save=False)
    recording.save()
    return recording


# --- the prefilled form -----------------------------------------------------------------------

def test_the_form_is_prefilled_from_the_call(offered: QueuedCall, phones: Any) -> None:
    html = as_user(phones.agent).get(reverse("desk:call_form", args=[offered.pk])).content.decode()
    assert 'data-testid="order-form"' in html
    assert 'name="citizen_phone" value="13900001111"' in html
    assert 'name="citizen_name" value="刘大爷"' in html
    assert 'value="elderly" id="id_citizen_tags_0" checked' in html
    assert '<option value="phone" selected>' in html
    # The portal's helpers, on the same field ids: triage suggestions, duplicates, knowledge.
    assert reverse("triage:suggest") in html and 'hx-include="#id_title,#id_text,#id_district"' in html
    assert 'id="similar-orders"' in html and reverse("portal:order_similar_panel") in html
    # Knowledge answers come through the desk's own view, which adds the insert buttons.
    assert reverse("desk:knowledge") in html and 'data-testid="kb-search"' in html
    for testid in ("btn-order-save", "btn-order-answer", "btn-order-dispatch",
                   "btn-order-callback"):
        assert f'data-testid="{testid}"' in html


@pytest.mark.parametrize("who,status", [("bob", 403), ("handler", 403), ("monitor", 200)])
def test_the_form_is_only_for_the_calls_agent_or_a_monitor(offered: QueuedCall, phones: Any,
                                                          who: str, status: int) -> None:
    url = reverse("desk:call_form", args=[offered.pk])
    assert as_user(getattr(phones, who)).get(url).status_code == status


# --- the outcomes -----------------------------------------------------------------------------

def test_save_registers_the_order_linked_to_the_calls_contact(answered: QueuedCall,
                                                             phones: Any) -> None:
    response = post_order(as_user(phones.agent), answered, "save")
    assert response.status_code == 200
    order = Order.objects.get()
    assert f'data-number="{order.number}"' in response.content.decode()
    assert (order.state, order.channel, order.created_by) == ("accepted", "phone", phones.agent)
    assert list(Contact.objects.filter(orders=order).values_list("pk", flat=True)) == [answered.contact_id]
    assert order.citizen.phone == CALLER and "elderly" in order.citizen.tags


def test_answer_and_close_needs_the_answer(answered: QueuedCall, phones: Any) -> None:
    client = as_user(phones.agent)
    refused = post_order(client, answered, "answer")
    assert refused.status_code == 422
    assert "write the answer given to the citizen" in refused.content.decode()
    assert not Order.objects.exists()
    done = post_order(client, answered, "answer", reply="停水系管道抢修，今晚恢复。")
    assert done.status_code == 200
    order = Order.objects.get()
    assert order.state == "closed" and order.answered_directly
    assert order.reply_text == "停水系管道抢修，今晚恢复。"


def test_dispatch_goes_to_the_categorys_department(answered: QueuedCall, phones: Any) -> None:
    post_order(as_user(phones.agent), answered, "dispatch")
    order = Order.objects.get()
    assert order.state == "dispatched" and order.lead_unit == phones.water
    assert set(order.assignments.values_list("unit__code", flat=True)) == {"water", "housing"}


def test_dispatch_to_a_chosen_unit(answered: QueuedCall, phones: Any) -> None:
    post_order(as_user(phones.agent), answered, "dispatch", unit="env")
    assert Order.objects.get().lead_unit == phones.env


def test_a_refused_dispatch_leaves_no_order_behind(answered: QueuedCall, phones: Any) -> None:
    response = post_order(as_user(phones.agent), answered, "dispatch", category="",
                          type="consultation")
    assert response.status_code == 422
    assert "no lead unit" in response.content.decode()
    assert not Order.objects.exists()


def test_an_htmx_error_answers_200_so_the_form_is_swapped(answered: QueuedCall,
                                                          phones: Any) -> None:
    response = as_user(phones.agent).post(
        reverse("desk:call_order", args=[answered.pk]),
        order_post(answered, "answer", title=""), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-testid="order-form"' in response.content.decode()
    assert not Order.objects.exists()


def test_cannot_answer_now_schedules_a_call_back(answered: QueuedCall, phones: Any) -> None:
    due = (timezone.localtime() + dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    response = post_order(as_user(phones.agent), answered, "callback",
                          callback_due=due.strftime("%Y-%m-%dT%H:%M"),
                          callback_note="问清水务局后回复")
    assert response.status_code == 200
    assert response["HX-Trigger"] == "desk-callbacks-changed"
    order = Order.objects.get()
    callback = ScheduledCallback.objects.get()
    assert order.state == "accepted"
    assert (callback.order, callback.contact_id, callback.phone, callback.created_by) == (
        order, answered.contact_id, CALLER, phones.agent)
    assert callback.due_at == due and callback.note == "问清水务局后回复"
    assert callback.done_at is None


@pytest.mark.parametrize("due,message", [
    ("", "say when to call the citizen back"),
    ("2020-01-01T09:00", "the call back time is in the past"),
])
def test_a_call_back_needs_a_sensible_time(answered: QueuedCall, phones: Any, due: str,
                                           message: str) -> None:
    response = post_order(as_user(phones.agent), answered, "callback", callback_due=due)
    assert response.status_code == 422 and message in response.content.decode()
    assert not Order.objects.exists() and not ScheduledCallback.objects.exists()


def test_a_resent_form_registers_the_order_once(answered: QueuedCall, phones: Any) -> None:
    client = as_user(phones.agent)
    post_order(client, answered, "dispatch")
    again = post_order(client, answered, "dispatch")
    assert again.status_code == 200 and "already sent" in again.content.decode()
    assert Order.objects.count() == 1 and Order.objects.get().state == "dispatched"


def test_the_order_is_for_the_calls_agent_only(answered: QueuedCall, phones: Any) -> None:
    assert post_order(as_user(phones.bob), answered, "save").status_code == 403
    assert post_order(as_user(phones.handler), answered, "save").status_code == 403
    with pytest.raises(Forbidden):
        do_order_from_call(phones.bob, answered, NewOrder(type="complaint", channel="phone",
                                                          title="x", text="y"), "save")
    assert not Order.objects.exists()


def test_the_order_post_needs_the_csrf_token(answered: QueuedCall, phones: Any) -> None:
    client = as_user(phones.agent, enforce_csrf_checks=True)
    assert post_order(client, answered, "save").status_code == 403
    assert not Order.objects.exists()


def test_an_unknown_outcome_is_refused(answered: QueuedCall, phones: Any) -> None:
    assert post_order(as_user(phones.agent), answered, "shred").status_code == 422
    with pytest.raises(InvalidInput):
        do_order_from_call(phones.agent, answered, NewOrder(type="complaint", channel="phone",
                                                            title="x", text="y"), "shred")


def test_the_order_can_be_made_in_wrap_up(answered: QueuedCall, phones: Any) -> None:
    do_call_ended(answered.pk)
    assert post_order(as_user(phones.agent), answered, "save").status_code == 200
    assert Contact.objects.get(orders=Order.objects.get()).pk == answered.contact_id


def test_a_call_without_a_contact_gets_the_orders_contact(answered: QueuedCall,
                                                         phones: Any) -> None:
    QueuedCall.objects.filter(pk=answered.pk).update(contact=None)
    answered.refresh_from_db()
    post_order(as_user(phones.agent), answered, "save")
    contact = Contact.objects.get(orders=Order.objects.get())
    answered.refresh_from_db()
    assert answered.contact_id == contact.pk


# --- call backs -------------------------------------------------------------------------------

def schedule(phones: Any, call: QueuedCall, hours: float, key: str) -> ScheduledCallback:
    made = do_order_from_call(
        phones.agent, call, NewOrder(type="consultation", channel="phone", title="社保转移",
                                     text="咨询社保转移", citizen_phone=CALLER),
        "callback", callback_due=timezone.now() + dt.timedelta(hours=hours),
        idempotency_key=key, now=timezone.now() - dt.timedelta(hours=2) if hours < 0 else None)
    assert made.callback is not None
    return made.callback


def test_my_call_backs_are_listed_due_first_and_marked_done(answered: QueuedCall,
                                                           phones: Any) -> None:
    later = schedule(phones, answered, 5, "k1")
    due = schedule(phones, answered, -1, "k2")
    client = as_user(phones.agent)
    html = client.get(reverse("desk:desk")).content.decode()
    assert html.index(f'id="callback-{due.pk}"') < html.index(f'id="callback-{later.pk}"')
    assert f'id="callback-{due.pk}" data-testid="callback-row" class="late"' in html
    # Not on another agent's desk.
    assert f'callback-{due.pk}' not in as_user(phones.bob).get(reverse("desk:desk")).content.decode()
    done = client.post(reverse("desk:callback_done", args=[due.pk]), HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and f'callback-{due.pk}' not in done.content.decode()
    assert f'callback-{later.pk}' in done.content.decode()
    due.refresh_from_db()
    assert due.done_at is not None
    again = client.post(reverse("desk:callback_done", args=[due.pk]),
                        HTTP_ACCEPT="application/json")
    assert again.status_code == 409


def test_only_the_promiser_or_a_monitor_marks_a_call_back(answered: QueuedCall,
                                                         phones: Any) -> None:
    callback = schedule(phones, answered, 1, "k3")
    refused = as_user(phones.bob).post(reverse("desk:callback_done", args=[callback.pk]),
                                       HTTP_ACCEPT="application/json")
    assert refused.status_code == 404
    with pytest.raises(NotFound):
        do_mark_called_back(phones.bob, callback.pk)
    do_mark_called_back(phones.monitor, callback.pk)
    with pytest.raises(Conflict):
        do_mark_called_back(phones.agent, callback.pk)


def test_the_callbacks_partial_is_for_the_desk(answered: QueuedCall, phones: Any) -> None:
    schedule(phones, answered, 1, "k4")
    assert "社保转移" in as_user(phones.agent).get(reverse("desk:callbacks")).content.decode()


# --- call recordings --------------------------------------------------------------------------

def test_the_calls_recordings_are_attached_to_the_new_order(answered: QueuedCall,
                                                           phones: Any) -> None:
    add_recording(answered, b"RIFF-first-part")
    post_order(as_user(phones.agent), answered, "save")
    order = Order.objects.get()
    attachment = order.attachments.get()
    assert (attachment.kind, attachment.contact_id, attachment.content_type) == (
        Attachment.Kind.RECORDING, answered.contact_id, "audio/wav")
    assert attachment.sha256 == hashlib.sha256(b"RIFF-first-part").hexdigest()
    with attachment.file.open("rb") as handle:
        assert handle.read() == b"RIFF-first-part"
    # The order page offers the download to the agent.
    page = as_user(phones.agent).get(reverse("portal:order_detail", args=[order.number]))
    assert reverse("portal:attachment_download", args=[order.number, attachment.pk]) \
        in page.content.decode()


def test_attaching_recordings_is_idempotent(answered: QueuedCall, phones: Any) -> None:
    post_order(as_user(phones.agent), answered, "save")
    order = Order.objects.get()
    assert attach_call_recordings(order, answered.contact_id) == []
    first = add_recording(answered, b"RIFF-one")
    assert len(attach_call_recordings(order, answered.contact_id)) == 1
    assert attach_call_recordings(order, answered.contact_id) == []
    assert attach_call_recordings(order, answered.contact) == []
    # A recording finished after the order was made: the gateway attaches it to every order
    # of the contact, once.
    add_recording(answered, b"RIFF-two")
    second_order, _ = Order.objects.get(), None
    made = attach_recording_to_orders(first)
    assert len(made) == 1 and made[0].order == second_order
    assert attach_recording_to_orders(first) == []
    assert order.attachments.filter(kind="recording").count() == 2
    assert attach_call_recordings(order, None) == []
