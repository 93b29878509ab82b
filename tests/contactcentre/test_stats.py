"""The wallboard's figures on a hand-built set of calls and agents: exact counts, service
levels, averages, window edges (half-open: 15 minutes ago is out, now is in), short abandons,
calls handled since local midnight, the Erlang C forecast and the query count."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model

from hotline.contactcentre import services, stats
from hotline.contactcentre.acd import erlang
from hotline.contactcentre.models import AgentSkill, CallOutcome, Queue, QueuedCall, SipExtension
from hotline.core.roles import Role
from tests.desk.conftest import at

pytestmark = pytest.mark.django_db

NOW = at(3600)  # 2026-03-02 10:00 UTC = 18:00 in Asia/Shanghai
DAY_START = dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC)  # 2026-03-02 00:00 local


def before(minutes: float = 0, seconds: float = 0) -> dt.datetime:
    return NOW - dt.timedelta(minutes=minutes, seconds=seconds)


def past_call(queue: Queue, queued: dt.datetime, outcome: str, *, agent: Any = None,
              answered: dt.datetime | None = None, ended: dt.datetime | None = None,
              abandoned: dt.datetime | None = None, overflowed: dt.datetime | None = None,
              caller: str = "13900000000") -> QueuedCall:
    end_of_wait = answered or abandoned or overflowed
    return QueuedCall.objects.create(
        call_ref=f"h{QueuedCall.objects.count()}", queue=queue, caller=caller, outcome=outcome,
        queued_at=queued, entered_at=queued, answered_at=answered, ended_at=ended,
        abandoned_at=abandoned, overflowed_at=overflowed, agent=agent,
        overflow_action="voicemail" if overflowed else "",
        wait_s=(end_of_wait - queued).total_seconds() if end_of_wait else None,
    )


def agent(desk: Any, username: str, name: str, cmn: int = 5) -> Any:
    user = get_user_model().objects.create_user(
        username=username, password="pw-" + username, role=Role.AGENT, unit=desk.centre,
        display_name=name)
    AgentSkill.objects.create(agent=user, skill=desk.cmn, level=cmn)
    return user


def ready(user: Any, when: dt.datetime, extension: str = "") -> None:
    services.do_sign_in(user, extension=extension, now=when)
    services.do_set_state(user, "ready", now=when)


def live_call(queue: Queue, user: Any, queued: dt.datetime, offered: dt.datetime,
              answered: dt.datetime | None, caller: str = "13900000000") -> QueuedCall:
    call = services.do_enqueue_call(queue, call_ref=f"live-{user.username}", caller=caller,
                                    now=queued)
    assert services.do_offer_call(call, user.pk, offered)
    if answered is not None:
        services.do_call_answered(call.pk, answered)
    return call


@pytest.fixture
def floor(desk: Any) -> Any:
    """Seven agents at their desks and fourteen calls around the two windows' edges."""
    d = desk
    general, cantonese = d.general, d.cantonese  # both with a 20 s service level target
    d.carol, d.dave, d.eve = (agent(d, "carol", "陈坐席"), agent(d, "dave", "刘坐席"),
                              agent(d, "eve", "周坐席"))
    SipExtension.objects.create(number="8001", agent=d.agent)

    # dave: answered after 10 s, talked 290 s, in wrap-up since (nobody expired it).
    ready(d.dave, before(20))
    d.c1 = live_call(general, d.dave, before(10), before(10, -5), before(10, -10))
    services.do_call_ended(d.c1.pk, before(5))
    # Answered exactly 15 minutes ago after 20 s (the target, inclusive): out of the 15-minute
    # window, in the 60-minute one. It ended 14 minutes ago: its talk is in both.
    past_call(general, before(15, 20), CallOutcome.COMPLETED, agent=d.agent,
              answered=before(15), ended=before(14))
    # carol: answered now, after 21 s (1 s over the target).
    ready(d.carol, before(30))
    d.c3 = live_call(general, d.carol, before(0, 21), before(0, 1), NOW)
    past_call(general, before(30, 5), CallOutcome.ABANDONED, abandoned=before(30))  # 5.0 s: short
    past_call(general, before(2, 5.5), CallOutcome.ABANDONED, abandoned=before(2))  # 5.5 s
    past_call(general, before(60, 30), CallOutcome.ABANDONED, abandoned=before(60))  # edge: out
    # Answered 1 s inside the hour after 40 s, talked 599 s.
    past_call(general, before(60, 39), CallOutcome.COMPLETED, agent=d.agent,
              answered=before(59, 59), ended=before(50))
    past_call(general, before(4), CallOutcome.OVERFLOWED, overflowed=before(3))
    services.do_enqueue_call(general, call_ref="waiting", caller="13700000000", now=before(0, 90))
    # alice: ringing with a waiting caller since 25 s, on extension 8001.
    ready(d.agent, before(40), extension="8001")
    d.c10 = live_call(general, d.agent, before(0, 30), before(0, 25), None, caller="13800000000")
    # Local midnight is the edge of "today": answered at 00:00:00 counts, at 23:59:59 not.
    past_call(general, DAY_START - dt.timedelta(seconds=30), CallOutcome.COMPLETED,
              agent=d.agent, answered=DAY_START, ended=DAY_START + dt.timedelta(seconds=60))
    past_call(general, DAY_START - dt.timedelta(seconds=31), CallOutcome.COMPLETED,
              agent=d.agent, answered=DAY_START - dt.timedelta(seconds=1),
              ended=DAY_START + dt.timedelta(seconds=59))
    # bob: a Cantonese call answered after 3 s, talking for 5 minutes.
    ready(d.bob, before(20))
    d.c12 = live_call(cantonese, d.bob, before(5, 3), before(5, 2), before(5))
    services.do_enqueue_call(cantonese, call_ref="waiting-yue", now=before(0, 200))

    services.do_sign_in(d.sub_agent, now=before(6))
    services.do_set_state(d.sub_agent, "not_ready", reason="meal", now=before(5))
    services.do_sign_in(d.monitor, now=before(1))
    ready(d.eve, before(2))
    frank = agent(d, "frank", "离开的坐席")
    ready(frank, before(50))
    services.do_sign_out(frank, now=before(45))
    return d


def test_waiting_calls_and_the_longest_wait(floor: Any) -> None:
    board = stats.wallboard(NOW)
    # A ringing caller still waits: 1 waiting + 1 ringing in general, 1 in Cantonese.
    assert board.waiting == 3
    assert board.longest_wait_s == 200.0
    general, cantonese = board.queues[1], board.queues[0]
    assert (cantonese.code, general.code) == ("cantonese", "general")
    assert (general.waiting, general.longest_wait_s) == (2, 90.0)
    assert (cantonese.waiting, cantonese.longest_wait_s) == (1, 200.0)


def test_window_figures_of_each_queue(floor: Any) -> None:
    board = stats.wallboard(NOW)
    general, cantonese = board.queues[1], board.queues[0]
    g15, g60 = general.last15, general.last60
    assert (g15.offered, g15.answered, g15.answered_in_target, g15.abandoned,
            g15.short_abandoned, g15.overflowed, g15.ended) == (6, 2, 1, 1, 0, 1, 2)
    assert g15.service_level == pytest.approx(1 / 3)
    assert g15.abandon_rate == pytest.approx(1 / 3)
    assert g15.average_wait_s == pytest.approx((10 + 21) / 2)
    assert g15.average_talk_s == pytest.approx((290 + 60) / 2)
    assert (g60.offered, g60.answered, g60.answered_in_target, g60.abandoned,
            g60.short_abandoned, g60.overflowed, g60.ended) == (8, 4, 2, 1, 1, 1, 3)
    assert g60.service_level == pytest.approx(2 / 5)
    assert g60.abandon_rate == pytest.approx(1 / 5)
    assert g60.average_wait_s == pytest.approx((10 + 20 + 21 + 40) / 4)
    assert g60.average_talk_s == pytest.approx((290 + 60 + 599) / 3)
    c15 = cantonese.last15
    assert (c15.offered, c15.answered, c15.answered_in_target, c15.abandoned, c15.ended) == \
        (2, 1, 1, 0, 0)
    assert (c15.service_level, c15.abandon_rate, c15.average_wait_s, c15.average_talk_s) == \
        (1.0, 0.0, 3.0, None)


def test_totals_over_all_queues(floor: Any) -> None:
    board = stats.wallboard(NOW)
    t15, t60 = board.last15, board.last60
    assert (t15.offered, t15.answered, t15.answered_in_target, t15.abandoned) == (8, 3, 2, 1)
    assert t15.service_level == pytest.approx(0.5)
    assert t15.abandon_rate == pytest.approx(0.25)
    assert (t60.offered, t60.answered, t60.answered_in_target, t60.abandoned,
            t60.short_abandoned) == (10, 5, 3, 1, 1)
    assert t60.service_level == pytest.approx(0.5)
    assert t60.average_wait_s == pytest.approx(94 / 5)
    assert board.service_level_s == 20


def test_one_second_later_the_edges_move(floor: Any) -> None:
    later = stats.wallboard(NOW + dt.timedelta(seconds=1))
    general = later.queues[1]
    # The answer at 59:59 ago leaves the hour; nothing new arrives in the 15 minutes.
    assert (general.last60.answered, general.last60.answered_in_target) == (3, 2)
    assert general.last15.answered == 2
    assert later.longest_wait_s == 201.0


def test_agents_by_state(floor: Any) -> None:
    counts = stats.wallboard(NOW).agents
    assert counts == stats.AgentCounts(
        signed_in=7, not_yet_ready=1, ready=1, not_ready=1, not_ready_by_reason={"meal": 1},
        ringing=1, talking=2, wrap_up=1)


def test_agent_rows(floor: Any) -> None:
    rows = {row.name: row for row in stats.wallboard(NOW).agent_rows}
    assert set(rows) == {"王坐席", "张坐席", "陈坐席", "刘坐席", "周坐席", "鼓楼分中心坐席", "李班长"}
    alice = rows["王坐席"]
    assert (alice.extension, alice.state, alice.seconds_in_state, alice.call_id, alice.caller,
            alice.calls_today) == ("8001", "ringing", 25.0, floor.c10.pk, "138****0000", 3)
    assert not alice.on_call  # ringing: no listening in yet
    bob = rows["张坐席"]
    assert (bob.state, bob.call_id, bob.caller, bob.calls_today, bob.on_call) == \
        ("talking", floor.c12.pk, "139****0000", 1, True)
    sam = rows["鼓楼分中心坐席"]
    assert (sam.state, sam.reason, sam.seconds_in_state, sam.call_id, sam.caller) == \
        ("busy", "meal", 300.0, None, "")
    assert rows["刘坐席"].state == "wrap_up" and rows["刘坐席"].calls_today == 1
    assert rows["陈坐席"].seconds_in_state == 0.0
    # Calls first, longest in the state first: bob has talked for 5 minutes, carol since now.
    assert [row.name for row in stats.wallboard(NOW).agent_rows][:3] == ["张坐席", "陈坐席", "王坐席"]


def test_the_erlang_c_forecast(floor: Any) -> None:
    board = stats.wallboard(NOW)
    general, cantonese = board.queues[1], board.queues[0]
    f = general.forecast
    aht = (290 + 60 + 599) / 3 + 15  # the average talk plus the queue's 15 s wrap-up
    assert (f.arrivals, f.aht_s) == (8, pytest.approx(aht))
    assert f.load == pytest.approx(8 / 3600 * aht)
    assert f.agents_needed == 2
    sl_two = erlang.erlang_c_figures(2, f.load, aht, 20).service_level  # type: ignore[union-attr]
    sl_one = erlang.erlang_c_figures(1, f.load, aht, 20).service_level  # type: ignore[union-attr]
    assert sl_two >= 0.8 > sl_one
    # Qualified and taking calls: alice, bob, carol, dave, eve; sam is on a break.
    assert (f.serving, f.short_by) == (5, 0)
    # No Cantonese call ended in the hour: the queue's configured 180 s AHT.
    assert (cantonese.forecast.aht_s, cantonese.forecast.load) == (180.0, pytest.approx(0.1))
    assert (cantonese.forecast.agents_needed, cantonese.forecast.serving) == (1, 1)


def test_agents_needed() -> None:
    assert stats.agents_needed(0, 180, 20) == 0
    # 100 calls an hour of 180 s = 5 Erlangs; the classic tables give 8 agents for 80/20.
    assert stats.agents_needed(5.0, 180, 20) == 8
    assert stats.agents_needed(5.0, 180, 20, target_share=0.95) == 10


def test_an_empty_centre() -> None:
    board = stats.wallboard(NOW)
    assert (board.waiting, board.longest_wait_s, board.queues, board.agent_rows) == (0, None, [], [])
    assert board.last15.service_level is None and board.last60.abandon_rate is None


def test_the_clock_is_now_by_default_and_the_query_count_is_fixed(
        floor: Any, django_assert_num_queries: Any) -> None:
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(9):
        board = stats.wallboard()
    assert board.now == NOW and board.waiting == 3


def test_a_queue_without_calls_shows_zeros(desk: Any) -> None:
    board = stats.wallboard(NOW)
    assert [q.code for q in board.queues] == ["cantonese", "general"]
    assert board.queues[1].last60 == stats.WindowFigures(60)
    assert board.queues[1].forecast.agents_needed == 0


def test_a_transfer_to_a_colleague_is_not_a_new_call(desk: Any) -> None:
    ready(desk.agent, before(10))
    ready(desk.bob, before(10))
    first = live_call(desk.general, desk.agent, before(5, 8), before(5, 6), before(5))
    # The gateway's transfer: a second entry for the same call, rung and answered at bob's.
    transfer = services.do_enqueue_call(desk.general, call_ref=first.call_ref,
                                        caller=first.caller, now=before(2))
    assert services.do_offer_call(transfer, desk.bob.pk, before(2))
    board = stats.wallboard(before(1, 59))
    assert (board.waiting, board.last15.offered, board.last15.answered) == (0, 1, 1)
    services.do_call_answered(transfer.pk, before(1, 50))
    board = stats.wallboard(before(1))
    assert (board.last15.offered, board.last15.answered, board.last15.average_wait_s) == (1, 1, 8)
    assert {r.name: r.calls_today for r in board.agent_rows} == {"王坐席": 1, "张坐席": 1}
