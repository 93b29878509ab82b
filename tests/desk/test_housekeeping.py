"""The scheduler ends agents' wrap-up time and trims the desk's event outbox."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.utils import timezone

from hotline.contactcentre import events, services
from hotline.contactcentre.models import AgentStatus, DeskEvent, State

if TYPE_CHECKING:
    from typing import Any

pytestmark = pytest.mark.django_db


def test_the_scheduler_makes_agents_ready_when_their_wrap_up_is_over(desk: Any) -> None:
    agent = desk.agent
    services.do_sign_in(agent)
    services.do_set_state(agent, "ready")
    call = services.do_enqueue_call(desk.general, call_ref="c1", caller="13800000001")
    assert services.do_offer_call(call, agent.pk)
    services.do_call_answered(call.pk)
    services.do_call_ended(call.pk)  # the queue's wrap-up: 15 s
    AgentStatus.objects.filter(pk=agent.pk).update(
        wrap_up_until=timezone.now() - dt.timedelta(seconds=1))
    other = desk.bob
    services.do_sign_in(other)
    services.do_set_state(other, "not_ready", reason="rest")
    call_command("scheduler", "--once")
    assert AgentStatus.objects.get(pk=agent.pk).state == State.IDLE
    assert AgentStatus.objects.get(pk=other.pk).state == State.BUSY  # only wrap-ups end


def test_old_desk_events_are_purged(desk: Any) -> None:
    services.do_sign_in(desk.agent)
    DeskEvent.objects.update(at=timezone.now() - dt.timedelta(days=events.KEEP_DAYS + 1))
    services.do_set_state(desk.agent, "ready")
    assert events.purge() == 1
    assert list(DeskEvent.objects.values_list("kind", flat=True)) == ["agent_state"]


def test_the_event_tail_delivers_each_committed_event_once(desk: Any) -> None:
    services.do_sign_in(desk.agent)
    tail = events.EventTail()  # what exists before it starts is history
    assert tail.read() == []
    services.do_set_state(desk.agent, "ready")
    services.do_set_state(desk.agent, "not_ready", reason="meal")
    got = tail.read()
    assert [(e.kind, e.payload["state"]) for e in got] == [("agent_state", "idle"),
                                                           ("agent_state", "busy")]
    assert tail.read() == []
    # A row that commits late, with a lower id than one already read, is still delivered once:
    # ids are given at INSERT, transactions commit in any order.
    first = DeskEvent.objects.create(at=timezone.now(), kind="agent_state", payload={})
    second = DeskEvent.objects.create(at=timezone.now(), kind="agent_state", payload={})
    DeskEvent.objects.filter(pk=first.pk).delete()  # not committed yet, as far as readers know
    assert [e.id for e in tail.read()] == [second.pk]
    DeskEvent.objects.create(id=first.pk, at=timezone.now(), kind="agent_state", payload={})
    assert [e.id for e in tail.read()] == [first.pk]
    assert tail.read() == []
