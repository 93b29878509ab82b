"""Linking related orders (关联) and merging duplicates (并单): both histories, the citizen of a
merged order still reached, repeat callers flagged."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hotline.core.errors import Conflict, Forbidden, InvalidInput
from hotline.orders.history import verify_order
from hotline.orders.models import Citizen, CitizenTag, Contact, Order, OrderLink
from hotline.orders.services import do_action

from .helpers import new_order

if TYPE_CHECKING:
    from hotline.orders.models import OrderEvent
    from tests.conftest import City


def _last(order: Order) -> OrderEvent:
    event = order.events.order_by("-seq").first()
    assert event is not None
    return event


def test_link_keeps_both_open_and_records_on_both(city: City) -> None:
    a = new_order(city.agent, citizen_phone="13800000001")
    b = do_action(city.agent, new_order(city.agent, citizen_phone="13800000002").number,
                  "dispatch")
    linked = do_action(city.agent, b.number, "link",
                       {"other": a.number, "kind": "duplicate", "note": "同一小区停水"})
    assert linked.state == "dispatched"
    a.refresh_from_db()
    assert a.state == "accepted"
    link = OrderLink.objects.get()
    assert (link.order_id, link.linked_id) == (a.pk, b.pk)  # lower id first
    assert link.kind == "duplicate" and link.created_by == city.agent
    mine, theirs = _last(b), _last(a)
    assert (mine.action, mine.from_state, mine.to_state) == ("link", "dispatched", "dispatched")
    assert mine.data == {"with": a.number, "kind": "duplicate", "same_caller": False}
    assert (theirs.action, theirs.from_state, theirs.to_state) == ("link", "accepted", "accepted")
    assert theirs.data == {"with": b.number, "kind": "duplicate"}
    assert theirs.note == "同一小区停水"
    assert verify_order(a) == [] and verify_order(b) == []
    # Either direction is the same pair.
    with pytest.raises(Conflict):
        do_action(city.agent, a.number, "link", {"other": b.number})
    assert not Citizen.objects.get(phone="13800000001").tags


def test_unlink_removes_the_link_and_records_it(city: City) -> None:
    a = new_order(city.agent, citizen_phone="13800000001")
    b = new_order(city.agent, citizen_phone="13800000002")
    with pytest.raises(Conflict):
        do_action(city.agent, a.number, "unlink", {"other": b.number})
    do_action(city.agent, a.number, "link", {"other": b.number})
    do_action(city.agent, b.number, "unlink", {"other": a.number, "note": "误关联"})
    assert not OrderLink.objects.exists()
    assert _last(a).action == "unlink" and _last(a).data == {"with": b.number}
    assert _last(b).action == "unlink"
    assert verify_order(a) == [] and verify_order(b) == []


def test_link_refuses_bad_input_roles_and_scope(city: City) -> None:
    a = new_order(city.agent, citizen_phone="13800000001")
    b = new_order(city.agent, citizen_phone="13800000002", district="taijiang")
    with pytest.raises(InvalidInput) as info:
        do_action(city.agent, a.number, "link", {})
    assert info.value.field == "other"
    with pytest.raises(InvalidInput):
        do_action(city.agent, a.number, "link", {"other": a.number})
    with pytest.raises(InvalidInput):
        do_action(city.agent, a.number, "link", {"other": b.number, "kind": "cousin"})
    with pytest.raises(InvalidInput):
        do_action(city.agent, a.number, "link", {"other": "99999999"})
    with pytest.raises(Forbidden):
        do_action(city.leader, a.number, "link", {"other": b.number})
    # The sub-centre sees its district's order a but not taijiang's b: no such order for it.
    with pytest.raises(InvalidInput):
        do_action(city.sub_agent, a.number, "link", {"other": b.number})
    assert not OrderLink.objects.exists()
    do_action(city.agent, a.number, "answer", {"reply": "已答复"})
    with pytest.raises(Conflict):
        do_action(city.agent, a.number, "link", {"other": b.number})
    # An open order may be linked to a closed one (the earlier answer to the same matter).
    do_action(city.agent, b.number, "link", {"other": a.number})
    assert OrderLink.objects.count() == 1


def test_merge_moves_contacts_and_tells_both_histories(city: City) -> None:
    target = new_order(city.agent, citizen_phone="13800000001", citizen_name="甲")
    dup = new_order(city.agent, citizen_phone="13800000002", citizen_name="乙")
    third = new_order(city.agent, citizen_phone="13800000003")
    do_action(city.agent, dup.number, "link", {"other": third.number})
    dup = do_action(city.agent, dup.number, "merge", {"into": target.number, "note": "同一事项"})
    assert dup.state == "merged" and dup.merged_into == target and dup.closed_at
    # The merged order's citizen is among the target's contacts: called back with it.
    citizens = set(Contact.objects.filter(orders=target).values_list("citizen__phone", flat=True))
    assert citizens == {"13800000001", "13800000002"}
    assert {o.citizen.phone for o in target.merged_orders.all()} == {"13800000002"}
    mine, theirs = _last(dup), _last(target)
    assert (mine.action, mine.to_state) == ("merge", "merged")
    assert mine.data == {"into": target.number, "contacts": 1, "same_caller": False}
    assert (theirs.action, theirs.from_state, theirs.to_state) == ("merge", "accepted", "accepted")
    assert theirs.data == {"merged": dup.number, "contacts": 1, "same_caller": False}
    assert verify_order(target) == [] and verify_order(dup) == []
    # The merged order's link now concerns the target.
    assert OrderLink.objects.filter(order=target, linked=third).exists() or \
        OrderLink.objects.filter(order=third, linked=target).exists()


def test_merge_refuses_merged_or_invisible_targets(city: City) -> None:
    target = new_order(city.agent, citizen_phone="13800000001")
    first = new_order(city.agent, citizen_phone="13800000002")
    other = new_order(city.agent, citizen_phone="13800000003", district="taijiang")
    do_action(city.agent, first.number, "merge", {"into": target.number})
    second = new_order(city.agent, citizen_phone="13800000004")
    with pytest.raises(Conflict):
        do_action(city.agent, second.number, "merge", {"into": first.number})
    with pytest.raises(InvalidInput):
        do_action(city.sub_agent, second.number, "merge", {"into": other.number})


def test_the_same_citizen_again_on_the_same_matter_is_a_repeat_caller(city: City) -> None:
    first = new_order(city.agent, citizen_phone="13800000001")
    again = new_order(city.agent, citizen_phone="13800000001")
    related = new_order(city.agent, citizen_phone="13800000001")
    # A related (not duplicate) link says nothing about calling again on the same matter.
    do_action(city.agent, related.number, "link", {"other": first.number})
    assert CitizenTag.REPEAT not in Citizen.objects.get(phone="13800000001").tags
    do_action(city.agent, again.number, "link", {"other": first.number, "kind": "duplicate"})
    assert Citizen.objects.get(phone="13800000001").tags == [CitizenTag.REPEAT]
    assert _last(again).data["same_caller"] is True
    merged = do_action(city.agent, again.number, "merge", {"into": first.number})
    assert _last(merged).data["same_caller"] is True
    assert Citizen.objects.get(phone="13800000001").tags == [CitizenTag.REPEAT]
