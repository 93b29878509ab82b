from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.core.phones import mask_phone
from hotline.orders import numbering
from hotline.orders.history import verify_order
from hotline.orders.models import Assignment, Citizen, Contact, ImmutableError, Order
from hotline.orders.scope import (
    citizen_hidden,
    shown_name,
    shown_phone,
    visible_orders,
)
from hotline.orders.services import NewOrder, do_action, do_create_order

from .helpers import new_order

if TYPE_CHECKING:
    from hotline.directory.models import User
    from tests.conftest import City


def _dispatched(city: City, **kw: Any) -> Order:
    order = new_order(city.agent, **kw)
    return do_action(city.agent, order.number, "dispatch")


def test_create_registers_citizen_contact_and_history(city: City) -> None:
    order = new_order(city.agent)
    assert numbering.is_valid(order.number)
    assert order.state == "accepted" and order.citizen.phone == "13812341234"
    contact = Contact.objects.get(orders=order)
    assert contact.channel == "phone" and contact.citizen == order.citizen
    event = order.events.get()
    assert (event.action, event.from_state, event.to_state) == ("create", "new", "accepted")
    assert event.actor == city.agent


def test_same_citizen_across_channels_is_one_history(city: City) -> None:
    a = new_order(city.agent, channel="phone", citizen_phone="138-1234-1234")
    b = new_order(city.agent, channel="web", citizen_phone="13812341234", citizen_name="")
    assert a.citizen_id == b.citizen_id
    assert Citizen.objects.count() == 1
    assert Contact.objects.filter(citizen=a.citizen).count() == 2


def test_reports_are_confidential(city: City) -> None:
    assert new_order(city.agent, type="report").confidential
    assert not new_order(city.agent, type="complaint", citizen_phone="13900000000").confidential


@pytest.mark.parametrize(
    ("field", "value"),
    [("type", "bogus"), ("channel", "pigeon"), ("district", "nowhere"), ("category", "999"),
     ("title", "   "), ("text", ""), ("citizen_phone", "12"), ("urgency", "asap"),
     ("citizen_tags", ["vip"])],
)
def test_bad_input_names_the_field(city: City, field: str, value: str | list[str]) -> None:
    with pytest.raises(InvalidInput) as info:
        new_order(city.agent, **{field: value})
    assert info.value.field == field
    assert Order.objects.count() == 0


def test_category_refuses_types_it_does_not_accept(city: City) -> None:
    city.cat_outage.accepted_types = ["complaint"]
    city.cat_outage.save()
    with pytest.raises(InvalidInput) as info:
        new_order(city.agent, type="praise")
    assert info.value.field == "category"


def test_departments_may_not_create(city: City) -> None:
    with pytest.raises(Forbidden):
        new_order(city.handler)


def test_idempotency_key_replays_and_refuses_a_different_body(city: City) -> None:
    data: dict[str, Any] = dict(type="help", channel="api", title="求助", text="老人走失",
                                citizen_phone="13700000000")
    first, created = do_create_order(city.agent, NewOrder(**data), idempotency_key="k-1")
    again, created_again = do_create_order(city.agent, NewOrder(**data), idempotency_key="k-1")
    assert created and not created_again and first.pk == again.pk
    with pytest.raises(Conflict):
        do_create_order(city.agent, NewOrder(**{**data, "text": "别的事"}), idempotency_key="k-1")
    # Another user's identical key is a different request.
    other, created_other = do_create_order(city.monitor, NewOrder(**data), idempotency_key="k-1")
    assert created_other and other.pk != first.pk
    assert Order.objects.count() == 2


def test_dispatch_follows_the_catalogue_route(city: City) -> None:
    order = _dispatched(city)
    assert order.state == "dispatched" and order.lead_unit == city.water
    roles = dict(Assignment.objects.filter(order=order).values_list("unit__code", "role"))
    assert roles == {"water": "lead", "housing": "co"}
    assert order.sign_due and order.handle_due and order.sign_due < order.handle_due


def test_district_route_wins_over_the_default(city: City) -> None:
    order = new_order(city.agent, category="100201", title="夜间施工噪声")
    order = do_action(city.agent, order.number, "dispatch")
    assert order.lead_unit == city.subcentre
    other = new_order(city.agent, category="100201", district="taijiang", citizen_phone="13900000001")
    assert do_action(city.agent, other.number, "dispatch").lead_unit == city.env


def test_dispatch_without_route_needs_a_unit(city: City) -> None:
    order = new_order(city.agent, category="")
    with pytest.raises(InvalidInput) as info:
        do_action(city.agent, order.number, "dispatch")
    assert info.value.field == "unit"
    order = do_action(city.agent, order.number, "dispatch", {"unit": "housing", "co_units": []})
    assert order.lead_unit == city.housing


def test_full_loop_with_return_reopen_and_verified_history(city: City) -> None:
    order = _dispatched(city)
    n = order.number
    do_action(city.handler, n, "return", {"reason": "不属于本单位职责"})
    do_action(city.monitor, n, "deny_return", {"reason": "供水属于水务局"})
    do_action(city.handler, n, "sign")
    do_action(city.housing_handler, n, "co_reply", {"reply": "已配合排查管网"})
    do_action(city.handler, n, "reply", {"reply": "已修复"})
    do_action(city.agent, n, "deny_reply", {"reason": "回复过于简单"})
    do_action(city.handler, n, "reply", {"reply": "已修复爆管，恢复供水"})
    do_action(city.agent, n, "approve_reply")
    order = do_action(city.agent, n, "reopen", {"reason": "市民称仍未恢复",
                                                 "satisfaction": "unsatisfied", "resolved": False})
    assert order.state == "handling" and order.reopen_count == 1
    do_action(city.handler, n, "reply", {"reply": "再次检修"})
    do_action(city.agent, n, "approve_reply")
    order = do_action(city.agent, n, "callback", {"resolved": True, "satisfaction": "basic"})
    assert order.state == "closed" and order.satisfaction == "basic" and order.resolved is True
    order = do_action(city.admin, n, "archive")
    assert order.state == "archived"
    assert verify_order(order) == []
    assert order.events.count() == 15


def test_wrong_state_is_a_conflict_and_changes_nothing(city: City) -> None:
    order = new_order(city.agent)
    with pytest.raises(Conflict):
        do_action(city.agent, order.number, "approve_reply")
    with pytest.raises(NotFound):
        do_action(city.handler, order.number, "sign")  # not dispatched: invisible to water
    order.refresh_from_db()
    assert order.state == "accepted" and order.events.count() == 1


def test_unknown_action_is_not_found(city: City) -> None:
    order = new_order(city.agent)
    with pytest.raises(NotFound):
        do_action(city.agent, order.number, "teleport")


def test_role_and_unit_checks(city: City) -> None:
    order = _dispatched(city)
    with pytest.raises(Forbidden):
        do_action(city.agent, order.number, "sign")  # agents do not sign for orders
    with pytest.raises(Forbidden):
        do_action(city.housing_handler, order.number, "sign")  # co-handler is not the lead
    with pytest.raises(NotFound):
        do_action(city.env_handler, order.number, "sign")  # not its order at all
    with pytest.raises(Forbidden):
        do_action(city.agent, order.number, "instruct", {"note": "x"})
    do_action(city.leader, order.number, "instruct", {"note": "请水务局加快处理"})


def test_return_approved_goes_to_another_unit(city: City) -> None:
    order = _dispatched(city)
    do_action(city.handler, order.number, "return", {"reason": "应由住建局处理"})
    with pytest.raises(InvalidInput):
        do_action(city.monitor, order.number, "approve_return", {"unit": "water"})
    order = do_action(city.monitor, order.number, "approve_return", {"unit": "housing"})
    assert order.state == "dispatched" and order.lead_unit == city.housing
    assert not Assignment.objects.get(order=order, unit=city.water).active
    with pytest.raises(NotFound):
        do_action(city.handler, order.number, "sign")  # water no longer sees it
    do_action(city.housing_handler, order.number, "sign")


def test_subcentre_transfers_down_to_its_street_only(city: City) -> None:
    order = new_order(city.agent, category="100201", title="广场舞噪声")
    do_action(city.agent, order.number, "dispatch")
    with pytest.raises(Forbidden):
        do_action(city.sub_agent, order.number, "transfer", {"unit": "water"})
    order = do_action(city.sub_agent, order.number, "transfer", {"unit": "gulou-dongjie"})
    assert order.lead_unit == city.street and order.state == "dispatched"
    do_action(city.street_handler, order.number, "sign")


def test_extension_request_and_approval_move_the_deadline(city: City) -> None:
    order = _dispatched(city)
    do_action(city.handler, order.number, "sign")
    before = Order.objects.get(pk=order.pk).handle_due
    assert before is not None
    with pytest.raises(InvalidInput):
        do_action(city.handler, order.number, "request_extension", {"days": 0, "reason": "x"})
    do_action(city.handler, order.number, "request_extension", {"days": 3, "reason": "需要更换管道"})
    with pytest.raises(Conflict):
        do_action(city.handler, order.number, "request_extension", {"days": 2, "reason": "again"})
    with pytest.raises(Forbidden):
        do_action(city.handler, order.number, "approve_extension")
    order = do_action(city.monitor, order.number, "approve_extension")
    assert order.handle_due is not None
    assert order.handle_due > before and order.extension_pending_days is None
    with pytest.raises(Conflict):
        do_action(city.monitor, order.number, "approve_extension")


def test_merge_links_contacts_and_refuses_closed_targets(city: City) -> None:
    target = new_order(city.agent, citizen_phone="13800000001")
    dup = new_order(city.agent, citizen_phone="13800000002")
    closed = new_order(city.agent, citizen_phone="13800000003")
    do_action(city.agent, closed.number, "answer", {"reply": "已答复"})
    with pytest.raises(InvalidInput):
        do_action(city.agent, dup.number, "merge", {"into": dup.number})
    with pytest.raises(Conflict):
        do_action(city.agent, dup.number, "merge", {"into": closed.number})
    dup = do_action(city.agent, dup.number, "merge", {"into": target.number})
    assert dup.state == "merged" and dup.merged_into == target
    assert Contact.objects.filter(orders=target).count() == 2


def test_escalation_reaches_linkage_units_who_confirm(city: City) -> None:
    order = new_order(city.agent, urgency="urgent", title="燃气泄漏")
    do_action(city.agent, order.number, "escalate",
              {"note": "疑似燃气泄漏，多人来电", "linkage_units": ["env"]})
    order = Order.objects.get(pk=order.pk)
    assert order.major_event and order.escalated_at
    do_action(city.env_handler, order.number, "confirm_escalation", {"note": "已派人到场"})
    assert Assignment.objects.get(order=order, unit=city.env).signed_at is not None


def test_answer_at_once_counts_as_direct_resolution(city: City) -> None:
    order = new_order(city.agent, type="consultation")
    order = do_action(city.agent, order.number, "answer", {"reply": "可在政务服务网办理"})
    assert order.state == "closed" and order.answered_directly and order.closed_at


def test_only_the_system_marks_deadlines(city: City) -> None:
    order = _dispatched(city)
    with pytest.raises(Forbidden):
        do_action(city.agent, order.number, "mark_overdue")
    order = do_action(city.system, order.number, "mark_overdue", {"deadline": "sign"})
    assert order.overdue_at is not None
    last = order.events.last()
    assert last is not None
    assert last.data == {"deadline": "sign"}


def test_visibility_by_role(city: City) -> None:
    water_order = _dispatched(city)
    gulou_noise = new_order(city.agent, category="100201", citizen_phone="13900000009")
    taijiang = new_order(city.agent, district="taijiang", category="", citizen_phone="13900000008")
    everything = {water_order.pk, gulou_noise.pk, taijiang.pk}

    def seen(user: User) -> set[int]:
        return set(visible_orders(user).values_list("pk", flat=True))

    for user in (city.agent, city.monitor, city.admin, city.leader, city.auditor):
        assert seen(user) == everything
    assert seen(city.handler) == {water_order.pk}
    assert seen(city.dept_admin) == {water_order.pk}
    assert seen(city.housing_handler) == {water_order.pk}  # co-handler
    assert seen(city.env_handler) == set()
    assert seen(city.sub_agent) == {water_order.pk, gulou_noise.pk}  # its district
    assert seen(city.street_handler) == set()


def test_privacy_of_reports_and_masking(city: City) -> None:
    report = new_order(city.agent, type="report", title="举报非法排污", category="100101")
    report = do_action(city.agent, report.number, "dispatch")
    assert citizen_hidden(city.handler, report)
    assert shown_phone(city.handler, report) == "" and shown_name(city.handler, report) == ""
    assert shown_phone(city.agent, report) == "13812341234"
    plain = new_order(city.agent, citizen_phone="13912345678", citizen_name="李四")
    assert shown_phone(city.leader, plain) == "139****5678"
    assert shown_name(city.leader, plain) == "李*"
    assert shown_phone(city.auditor, plain) == "139****5678"
    assert mask_phone("13812341234") == "138****1234"


def test_history_events_are_immutable(city: City) -> None:
    order = new_order(city.agent)
    event = order.events.get()
    event.note = "tampered"
    with pytest.raises(ImmutableError):
        event.save()
    with pytest.raises(ImmutableError):
        event.delete()
