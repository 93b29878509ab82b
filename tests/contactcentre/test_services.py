"""The desk services on a real database: agents' states and their log, the atomic offer, the
call events, priority, sticky routing, overflow, wrap-up expiry, extensions stored as HA1."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from hotline.contactcentre import services
from hotline.contactcentre.models import (
    AgentStatus,
    CallOutcome,
    OverflowAction,
    OverflowRule,
    QueuedCall,
    SipExtension,
    State,
    StateChange,
)
from hotline.core.digest import ha1
from hotline.core.errors import Conflict, Forbidden, InvalidInput
from hotline.orders.models import Citizen, CitizenTag
from hotline.orders.services import NewOrder, do_create_order
from tests.desk.conftest import at

pytestmark = pytest.mark.django_db


def ready(user: Any, seconds: float) -> None:
    services.do_sign_in(user, now=at(seconds))
    services.do_set_state(user, "ready", now=at(seconds))


def status(user: Any) -> AgentStatus:
    return AgentStatus.objects.get(pk=user.pk)


def log(user: Any) -> list[tuple[str, str, str, str]]:
    return [(c.action, c.from_state, c.to_state, c.reason)
            for c in StateChange.objects.filter(agent=user).order_by("at", "id")]


def test_sign_in_ready_busy_sign_out_each_logged_with_time_and_reason(desk: Any) -> None:
    alice = desk.agent
    services.do_sign_in(alice, now=at(0))
    assert status(alice).state == State.SIGNED_IN
    services.do_set_state(alice, "ready", now=at(5))
    assert status(alice).idle_since == at(5)
    services.do_set_state(alice, "not_ready", reason="meal", now=at(60))
    s = status(alice)
    assert (s.state, s.reason, s.since, s.idle_since) == (State.BUSY, "meal", at(60), None)
    services.do_set_state(alice, "not_ready", reason="meeting", now=at(70))
    services.do_sign_out(alice, now=at(90))
    assert log(alice) == [
        ("sign_in", "signed_out", "signed_in", ""),
        ("ready", "signed_in", "idle", ""),
        ("not_ready", "idle", "busy", "meal"),
        ("not_ready", "busy", "busy", "meeting"),
        ("sign_out", "busy", "signed_out", ""),
    ]
    assert [c.at for c in StateChange.objects.filter(agent=alice).order_by("id")] == [
        at(0), at(5), at(60), at(70), at(90)]


def test_bad_state_requests_are_refused(desk: Any) -> None:
    with pytest.raises(Conflict):
        services.do_set_state(desk.agent, "ready")  # never signed in
    services.do_sign_in(desk.agent)
    with pytest.raises(InvalidInput) as info:
        services.do_set_state(desk.agent, "not_ready")
    assert info.value.field == "reason"
    with pytest.raises(InvalidInput):
        services.do_set_state(desk.agent, "not_ready", reason="no_answer")
    with pytest.raises(InvalidInput):
        services.do_set_state(desk.agent, "answer")
    with pytest.raises(Conflict):
        services.do_sign_in(desk.agent)  # already signed in
    assert StateChange.objects.filter(agent=desk.agent).count() == 1


def test_who_may_change_states(desk: Any) -> None:
    with pytest.raises(Forbidden):
        services.do_sign_in(desk.handler)  # department staff take no calls
    services.do_sign_in(desk.agent)
    with pytest.raises(Forbidden):
        services.do_set_state(desk.sub_agent, "ready", agent=desk.agent)
    services.do_set_state(desk.monitor, "not_ready", reason="other", agent=desk.agent)
    change = StateChange.objects.filter(agent=desk.agent).last()
    assert change is not None and change.actor == desk.monitor
    services.do_sign_out(desk.monitor, agent=desk.agent)
    assert status(desk.agent).state == State.SIGNED_OUT


def test_a_call_from_queue_to_wrap_up_and_back_to_ready(desk: Any) -> None:
    ready(desk.agent, 0)
    call = services.do_enqueue_call(desk.general, call_ref="c1", caller="13800000001", now=at(10))
    result = services.do_route(at(10))
    assert [(o.call, o.agent) for o in result.offers] == [(call.pk, desk.agent.pk)]
    assert status(desk.agent).state == State.RINGING
    services.do_call_answered(call.pk, at(14))
    services.do_call_ended(call.pk, at(200))
    call.refresh_from_db()
    assert (call.outcome, call.wait_s, call.agent) == (CallOutcome.COMPLETED, 4.0, desk.agent)
    s = status(desk.agent)
    assert (s.state, s.wrap_up_until) == (State.WRAP_UP, at(215))  # the queue's 15 s
    assert services.do_expire_wrap_ups(at(214)) == []
    assert services.do_expire_wrap_ups(at(215)) == [desk.agent.pk]
    assert status(desk.agent).state == State.IDLE and status(desk.agent).idle_since == at(215)
    assert [row[0] for row in log(desk.agent)] == [
        "sign_in", "ready", "offer", "answer", "hang_up", "wrap_up_end"]
    assert StateChange.objects.filter(call=call).count() == 4


def test_longest_idle_and_skills(desk: Any) -> None:
    ready(desk.sub_agent, 0)
    ready(desk.agent, 5)
    ready(desk.bob, 10)
    first = services.do_enqueue_call(desk.general, call_ref="a", now=at(20))
    cantonese = services.do_enqueue_call(desk.cantonese, call_ref="b", now=at(21))
    second = services.do_enqueue_call(desk.general, call_ref="c", now=at(22))
    offers = {(o.call, o.agent) for o in services.do_route(at(22)).offers}
    assert offers == {(first.pk, desk.sub_agent.pk), (cantonese.pk, desk.bob.pk),
                      (second.pk, desk.agent.pk)}


def test_vulnerable_callers_go_first(desk: Any) -> None:
    Citizen.objects.create(phone="13900000002", tags=[CitizenTag.ELDERLY])
    plain = services.do_enqueue_call(desk.general, call_ref="p", caller="13900000001", now=at(0))
    elderly = services.do_enqueue_call(desk.general, call_ref="e", caller="13900000002",
                                       now=at(5))
    assert (plain.priority, elderly.priority) == (0, 1)
    assert services.announcement(elderly.pk) == (1, None)  # nobody serving: no time said
    ready(desk.agent, 6)
    assert services.announcement(plain.pk) == (2, 6)  # 2 × 180 s / 1 agent
    assert [o.call for o in services.do_route(at(6)).offers] == [elderly.pk]


def test_sticky_routing_waits_for_the_agent_who_created_the_open_order(desk: Any) -> None:
    order, _ = do_create_order(desk.agent, NewOrder(type="complaint", channel="phone",
                                                    title="停水", text="停水两天",
                                                    citizen_phone="13700000001"))
    ready(desk.agent, 0)
    ready(desk.sub_agent, 0)
    other = services.do_enqueue_call(desk.general, call_ref="o", now=at(1))
    services.do_route(at(1))
    other.refresh_from_db()
    busy_with = other.agent  # the longest idle of the two: whoever it was, one is busy now
    services.do_call_answered(other.pk, at(2))
    call = services.do_enqueue_call(desk.general, call_ref="s", caller="13700000001", now=at(10))
    assert call.sticky_agent == order.created_by == desk.agent
    if busy_with == desk.agent:
        assert services.do_route(at(20)).offers == []  # the free agent is not offered it
        services.do_call_ended(other.pk, at(25))
        services.do_expire_wrap_ups(at(40))
        assert [o.agent for o in services.do_route(at(40)).offers] == [desk.agent.pk]
    else:
        assert [o.agent for o in services.do_route(at(20)).offers] == [desk.agent.pk]


def test_sticky_window_runs_out(desk: Any) -> None:
    do_create_order(desk.agent, NewOrder(type="complaint", channel="phone", title="停水",
                                         text="停水两天", citizen_phone="13700000001"))
    ready(desk.agent, 0)
    first = services.do_enqueue_call(desk.general, call_ref="x", now=at(0))
    services.do_route(at(0))
    services.do_call_answered(first.pk, at(1))  # alice is talking
    ready(desk.sub_agent, 2)
    call = services.do_enqueue_call(desk.general, call_ref="s", caller="13700000001", now=at(10))
    assert services.do_route(at(39)).offers == []
    assert [(o.call, o.agent) for o in services.do_route(at(40)).offers] == [
        (call.pk, desk.sub_agent.pk)]


def test_ring_timeout_makes_the_agent_busy_and_the_call_waits_again(desk: Any) -> None:
    ready(desk.agent, 0)
    ready(desk.sub_agent, 1)
    call = services.do_enqueue_call(desk.general, call_ref="r", now=at(5))
    services.do_route(at(5))
    services.do_ring_timeout(call.pk, at(25))
    s = status(desk.agent)
    assert (s.state, s.reason) == (State.BUSY, "no_answer")
    call.refresh_from_db()
    assert (call.outcome, call.unanswered_offers, call.agent) == (CallOutcome.WAITING, 1, None)
    assert [o.agent for o in services.do_route(at(25)).offers] == [desk.sub_agent.pk]


def test_abandoned_calls_keep_their_wait_and_free_a_ringing_agent(desk: Any) -> None:
    waiting = services.do_enqueue_call(desk.general, call_ref="w", now=at(0))
    services.do_call_abandoned(waiting.pk, at(42))
    waiting.refresh_from_db()
    assert (waiting.outcome, waiting.wait_s, waiting.abandoned_at) == (
        CallOutcome.ABANDONED, 42.0, at(42))
    ready(desk.agent, 50)
    ringing = services.do_enqueue_call(desk.general, call_ref="r", now=at(60))
    services.do_route(at(60))
    services.do_call_abandoned(ringing.pk, at(63))
    s = status(desk.agent)
    assert (s.state, s.idle_since) == (State.IDLE, at(50))  # keeps its place in line
    with pytest.raises(Conflict):
        services.do_call_abandoned(ringing.pk, at(64))


def test_offer_is_conditional(desk: Any) -> None:
    services.do_sign_in(desk.agent, now=at(0))
    call = services.do_enqueue_call(desk.general, call_ref="x", now=at(0))
    assert services.do_offer_call(call, desk.agent.pk, at(1)) is False  # not ready
    services.do_set_state(desk.agent, "ready", now=at(2))
    services.do_call_abandoned(call.pk, at(3))
    assert services.do_offer_call(call, desk.agent.pk, at(4)) is False  # caller gone
    assert status(desk.agent).state == State.IDLE  # the claim was rolled back
    fresh = services.do_enqueue_call(desk.general, call_ref="y", now=at(5))
    assert services.do_offer_call(fresh, desk.agent.pk, at(5)) is True
    assert services.do_offer_call(fresh, desk.agent.pk, at(5)) is False


def test_overflow_to_another_queue_then_to_a_call_back(desk: Any) -> None:
    OverflowRule.objects.create(queue=desk.general, position=1, after_s=60,
                                action=OverflowAction.QUEUE, target_queue=desk.cantonese)
    OverflowRule.objects.create(queue=desk.cantonese, position=1, after_s=30,
                                action=OverflowAction.CALLBACK)
    call = services.do_enqueue_call(desk.general, call_ref="o", now=at(0))
    assert services.do_route(at(59)).overflows == []
    assert len(services.do_route(at(60)).overflows) == 1
    call.refresh_from_db()
    assert (call.queue, call.outcome, call.entered_at) == (desk.cantonese, "waiting", at(60))
    services.do_route(at(89))
    call.refresh_from_db()
    assert call.outcome == CallOutcome.WAITING
    services.do_route(at(90))
    call.refresh_from_db()
    assert (call.outcome, call.overflow_action, call.wait_s) == (
        CallOutcome.OVERFLOWED, "callback", 90.0)


def test_state_log_is_append_only(desk: Any) -> None:
    services.do_sign_in(desk.agent)
    change = StateChange.objects.get(agent=desk.agent)
    with pytest.raises(Exception, match="cannot be changed"):
        change.save()
    with pytest.raises(Exception, match="cannot be deleted"):
        change.delete()
    # The database refuses too, whoever asks (bulk updates and deletes skip the model).
    for attempt in (lambda: StateChange.objects.filter(pk=change.pk).update(reason="meal"),
                    lambda: StateChange.objects.filter(pk=change.pk).delete()):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert StateChange.objects.get(pk=change.pk).reason == ""


def test_extension_stores_only_ha1_and_binds_at_sign_in(desk: Any) -> None:
    ext = SipExtension.objects.create(number="8001", agent=desk.agent)
    services.do_set_extension_password(ext, "s3cret-pw")
    ext.refresh_from_db()
    assert ext.ha1_md5 == ha1("8001", "hotline", "s3cret-pw")
    assert ext.ha1_sha256 == ha1("8001", "hotline", "s3cret-pw", "SHA-256")
    assert "s3cret-pw" not in str(SipExtension.objects.filter(pk=ext.pk).values().first())
    with pytest.raises(InvalidInput):
        services.do_set_extension_password(ext, "short")
    with pytest.raises(InvalidInput):
        services.do_sign_in(desk.agent, extension="9999")
    assert services.do_sign_in(desk.agent, extension="8001").extension == ext
    services.do_sign_out(desk.agent)
    assert status(desk.agent).extension is None


def test_admin_manages_extensions_and_queues(desk: Any, client: Any) -> None:
    desk.admin.is_staff = True
    desk.admin.save()
    client.force_login(desk.admin)
    response = client.post(reverse("admin:contactcentre_sipextension_add"), {
        "number": "8002", "agent": desk.sub_agent.pk, "phone": "sip", "realm": "hotline", "enabled": "on",
        "password": "another-pw"})
    assert response.status_code == 302, response.content[:500]
    ext = SipExtension.objects.get(number="8002")
    assert ext.ha1_md5 == ha1("8002", "hotline", "another-pw")
    for name in ("sipextension", "skill", "queue", "agentskill", "queuedcall", "statechange"):
        assert client.get(reverse(f"admin:contactcentre_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:contactcentre_queue_change", args=[desk.general.pk])).status_code \
        == 200
    client.force_login(desk.agent)
    assert client.get(reverse("admin:contactcentre_queue_changelist")).status_code == 302
    assert QueuedCall.objects.count() == 0


def test_next_timer_is_the_earliest_wrap_up_end_or_routing_deadline(desk: Any) -> None:
    assert services.next_timer(at(0)) is None
    OverflowRule.objects.create(queue=desk.general, position=1, after_s=90,
                                action=OverflowAction.VOICEMAIL)
    services.do_enqueue_call(desk.general, call_ref="v", now=at(0))
    assert services.next_timer(at(10)) == at(90)
    ready(desk.agent, 0)
    [offer] = services.do_route(at(20)).offers
    services.do_call_answered(offer.call, at(21))
    services.do_call_ended(offer.call, at(30))  # wrap-up until 45
    assert services.next_timer(at(30)) == at(45)


def test_default_skills_exist() -> None:
    from hotline.contactcentre.models import Skill

    assert {"lang-cmn", "lang-yue", "lang-en", "lang-dialect", "biz-enterprise"} <= set(
        Skill.objects.values_list("code", flat=True))
