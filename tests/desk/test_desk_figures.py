"""The idle desk's figures: the agent's own calls, orders, handle time and call backs for the
local day, and the desk's panes that show them (idle desk, figures, knowledge answers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from hotline.contactcentre.models import QueuedCall, Reason, ScheduledCallback
from hotline.contactcentre.services import (
    do_call_answered,
    do_call_ended,
    do_enqueue_call,
    do_route,
    do_set_state,
    do_sign_in,
)
from hotline.desk.figures import agent_day_figures, clock_text, day_bounds, wrap_up_seconds
from hotline.orders.services import NewOrder, do_create_order
from tests.desk import test_desk_views as views_fixtures
from tests.desk.test_desk_views import as_user

_english = views_fixtures._english
phones = views_fixtures.phones

pytestmark = pytest.mark.django_db

# 10:00 in Beijing (TIME_ZONE is Asia/Shanghai): the local day began at 16:00 UTC the day before.
NOON = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return NOON + dt.timedelta(seconds=seconds)


def handled_call(c: Any, agent: Any, *, offered: float, answered: float, ended: float,
                 ready: float | None) -> QueuedCall:
    """A call the ACD offers to ``agent`` (ready at ``offered``), answered and ended at those
    seconds after NOON; the agent presses "ready now" at ``ready`` (or stays in wrap-up)."""
    do_set_state(agent, "ready", now=at(offered - 1))
    call = do_enqueue_call(c.general, call_ref=f"fig-{offered}", caller="13900005555",
                           now=at(offered))
    result = do_route(now=at(offered))
    assert [o.agent for o in result.offers] == [agent.pk]
    do_call_answered(call.pk, now=at(answered))
    do_call_ended(call.pk, now=at(ended))
    if ready is not None:
        do_set_state(agent, "ready", now=at(ready))
        do_set_state(agent, "not_ready", reason=Reason.REST, now=at(ready + 1))
    return call


def order_by(c: Any, actor: Any, when: dt.datetime, key: str) -> None:
    do_create_order(actor, NewOrder(type="consultation", channel="phone", title="咨询",
                                    text="咨询公积金", citizen_phone="13900005555"),
                    idempotency_key=key, now=when)


def callback(c: Any, agent: Any, order_key: str, due: dt.datetime, *,
             done: bool = False) -> ScheduledCallback:
    order_by(c, agent, at(-3600), order_key)
    from hotline.orders.models import Order
    order = Order.objects.order_by("-pk").first()
    assert order is not None
    return ScheduledCallback.objects.create(
        order=order, phone="13900005555", due_at=due, created_by=agent, created_at=at(-3600),
        done_at=at(-60) if done else None)


def test_the_day_is_the_local_calendar_day() -> None:
    start, end = day_bounds(NOON)
    assert start == dt.datetime(2026, 3, 1, 16, 0, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(days=1)


def test_nothing_yet_gives_zeros_and_no_average(phones: Any) -> None:
    figures = agent_day_figures(phones.agent, NOON)
    assert (figures.calls, figures.orders, figures.callbacks_due) == (0, 0, 0)
    assert figures.average_handle_s is None and clock_text(figures.average_handle_s) == "—"


def test_calls_orders_handle_time_and_call_backs_of_the_agent_today(phones: Any) -> None:
    c = phones
    agent = c.agent
    do_sign_in(agent, now=at(-13 * 3600))
    # 22:00 local the evening before: not today.
    handled_call(c, agent, offered=-12 * 3600, answered=-12 * 3600 + 5,
                 ended=-12 * 3600 + 65, ready=-12 * 3600 + 70)
    # Today: 120 s of talk and 15 s of wrap-up, then 60 s of talk and 10 s of wrap-up.
    handled_call(c, agent, offered=100, answered=110, ended=230, ready=245)
    handled_call(c, agent, offered=300, answered=305, ended=365, ready=375)
    # A third call today still going on: counted as handled, not in the average yet.
    do_set_state(agent, "ready", now=at(399))
    live = do_enqueue_call(c.general, call_ref="fig-live", caller="13900006666", now=at(400))
    do_route(now=at(400))
    do_call_answered(live.pk, now=at(402))

    order_by(c, agent, at(120), "today-1")
    order_by(c, agent, at(310), "today-2")
    order_by(c, agent, at(-12 * 3600), "yesterday")
    order_by(c, c.bob, at(130), "bob")  # another agent's
    callback(c, agent, "cb-due", at(3600))  # due later today
    callback(c, agent, "cb-late", at(-600))  # overdue
    callback(c, agent, "cb-tomorrow", at(24 * 3600))  # due tomorrow: not yet
    callback(c, agent, "cb-done", at(600), done=True)  # made already
    callback(c, c.bob, "cb-bob", at(600))  # another agent's

    figures = agent_day_figures(agent, at(500))
    assert figures.calls == 3
    assert figures.ended_calls == 2
    assert figures.handle_s == pytest.approx(120 + 15 + 60 + 10)
    assert figures.average_handle_s == pytest.approx(102.5)
    assert clock_text(figures.average_handle_s) == "1:42"
    # The orders: the two on today's calls and Alice's four made for the call backs at 09:00
    # local; not yesterday's, not Bob's.
    assert figures.orders == 2 + 4
    assert (figures.callbacks_due, figures.callbacks_overdue) == (2, 1)
    # Bob's own figures know nothing of Alice's calls.
    assert agent_day_figures(c.bob, at(500)).calls == 0


def test_the_previous_day_is_left_out(phones: Any) -> None:
    c = phones
    do_sign_in(c.agent, now=at(-12 * 3600))
    # 22:00 local the day before (14:00 UTC): yesterday.
    handled_call(c, c.agent, offered=-12 * 3600, answered=-12 * 3600 + 5,
                 ended=-12 * 3600 + 65, ready=-12 * 3600 + 70)
    order_by(c, c.agent, at(-12 * 3600), "late-yesterday")
    figures = agent_day_figures(c.agent, NOON)
    assert (figures.calls, figures.orders, figures.ended_calls) == (0, 0, 0)


def test_a_wrap_up_still_running_counts_until_now(phones: Any) -> None:
    c = phones
    do_sign_in(c.agent, now=at(0))
    handled_call(c, c.agent, offered=10, answered=12, ended=72, ready=None)
    assert wrap_up_seconds(c.agent, day_bounds(NOON)[0], at(80)) == pytest.approx(8)
    figures = agent_day_figures(c.agent, at(80))
    assert figures.handle_s == pytest.approx(60 + 8)


def test_clock_text() -> None:
    assert clock_text(0) == "0:00"
    assert clock_text(59.6) == "1:00"
    assert clock_text(3725) == "1:02:05"


# --- the panes --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["idle", "figures", "knowledge"])
def test_the_panes_are_for_desk_users_only(phones: Any, name: str) -> None:
    assert as_user(phones.handler).get(reverse(f"desk:{name}")).status_code == 403
    assert as_user(phones.agent).get(reverse(f"desk:{name}")).status_code == 200


def test_the_idle_desk_shows_the_figures_and_a_knowledge_search(phones: Any) -> None:
    order_by(phones, phones.agent, dt.datetime.now(dt.UTC), "now-1")
    html = as_user(phones.agent).get(reverse("desk:desk")).content.decode()
    assert 'data-testid="desk-idle"' in html and 'data-testid="kb-search"' in html
    assert 'data-testid="figure-orders">1<' in html
    assert 'data-testid="figure-calls">0<' in html
    assert 'data-testid="figure-aht">—<' in html
    idle = as_user(phones.agent).get(reverse("desk:idle")).content.decode()
    assert 'data-testid="figure-orders">1<' in idle
    # Without a call the knowledge search has no "insert" target.
    assert '"insert": "1"' not in idle


def test_knowledge_answers_insert_only_public_entries(phones: Any) -> None:
    from tests.knowledge.conftest import publish

    public = publish(phones, title="停水后多久恢复供水", body="<p>计划停水一般在24小时内恢复。</p>",
                     keywords="停水")
    internal = publish(phones, title="停水内部处置口径", body="<p>内部：先联系水务值班。</p>",
                       keywords="停水", public=False)
    client = as_user(phones.agent)
    html = client.get(reverse("desk:knowledge"), {"text": "停水", "insert": "1"}).content.decode()
    assert f'data-entry="{public.pk}"' in html and f'data-entry="{internal.pk}"' in html
    assert html.count('data-testid="kb-insert"') == 1
    assert 'data-answer="计划停水一般在24小时内恢复。"' in html
    plain = client.get(reverse("desk:knowledge"), {"text": "停水"}).content.decode()
    assert 'data-testid="kb-insert"' not in plain
    none = client.get(reverse("desk:knowledge"), {"text": "完全无关的词语组合"}).content.decode()
    assert 'data-testid="kb-none"' in none
    # An over-long query is cut, not refused.
    assert client.get(reverse("desk:knowledge"), {"text": "停水" * 3000}).status_code == 200
