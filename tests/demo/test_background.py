"""The demo's background load (hotline.demo.background): chunks of orders in their own
transactions, resumed after an interruption, claimed once, complete at the end."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from hotline.demo import background, start
from hotline.demo.models import DemoLoad
from hotline.demo.tasks import PERIODIC
from hotline.directory.models import User
from hotline.insight.assessment_models import AssessmentScore
from hotline.insight.topic_models import TopicEpoch
from hotline.orders.history import verify_order
from hotline.orders.models import Order, OrderState
from hotline.outreach.models_campaigns import Campaign
from hotline.outreach.models_polls import Poll

if TYPE_CHECKING:
    from django.test import Client

pytestmark = pytest.mark.django_db

ORDERS = 30


def play_all(size: int) -> DemoLoad:
    load = background.current()
    while load is not None and not load.finished:
        load = background.do_play_next_chunk(size)
    assert load is not None
    return load


def city_orders() -> list[tuple[str, str, str]]:
    """The demo's orders (not the mailbox letters') by what they say and how they ended."""
    return sorted(Order.objects.exclude(channel="mailbox").values_list("title", "state",
                                                                        "citizen__phone"))


def test_chunks_play_every_planned_order_then_the_loads_that_need_them() -> None:
    load = background.do_begin(ORDERS, 12345)
    assert load is not None and load.orders_done == 0 and not load.finished
    assert User.objects.filter(username="agent1").exists() and not Order.objects.exists()
    load = background.do_play_next_chunk(12)
    assert load is not None and load.orders_done == 12 and Order.objects.count() == 12
    assert not load.finished and background.unfinished()
    load = play_all(12)
    assert load.orders_done == ORDERS and load.finished and not background.unfinished()
    assert Order.objects.count() == ORDERS
    # every state, as the one-transaction load makes them, with real histories
    assert set(Order.objects.values_list("state", flat=True)) == set(OrderState.values)
    for order in Order.objects.all():
        assert verify_order(order) == []
    for merged in Order.objects.filter(state="merged"):
        # the order merged into was there (created) before the merge
        assert merged.merged_into is not None
        assert merged.merged_into.created_at < merged.events.order_by("-seq")[0].created_at
    ids_by_time = list(Order.objects.order_by("created_at").values_list("pk", flat=True))
    assert ids_by_time == sorted(ids_by_time)  # created in time order across the chunks
    # what needs the orders came after them
    assert AssessmentScore.objects.exists()
    assert Campaign.objects.exists() and Poll.objects.exists()
    assert TopicEpoch.objects.filter(current=True).exists()
    # a finished load plays nothing more
    assert background.do_play_next_chunk(12) == load
    assert Order.objects.count() == ORDERS


def test_an_interrupted_load_resumes_where_it_stopped_with_the_same_orders() -> None:
    background.do_begin(ORDERS, 12345)
    background.do_play_next_chunk(10)
    first_part = city_orders()
    said: list[str] = []
    # the next start finds the load unfinished and hands it to the worker again
    assert start.load_if_empty(said.append) is False
    assert said == ["demo orders: 10 of 30 loaded; the worker loads the rest in the background"]
    load = DemoLoad.objects.get()
    assert load.finished and Order.objects.count() == ORDERS
    assert set(first_part) <= set(city_orders())


def test_the_plan_is_the_same_whatever_worker_plays_it() -> None:
    background.do_begin(ORDERS, 12345)
    play_all(10)
    assert len(city_orders()) == ORDERS
    # the same plan, drawn again against the anchored moment, gives the same times and endings
    from hotline.demo.data.stories import plan_orders

    load = DemoLoad.objects.get()
    _citizens, plans = plan_orders(ORDERS, load.seed, load.anchored_at)
    _again, replanned = plan_orders(ORDERS, load.seed, load.anchored_at)
    assert plans == replanned
    assert sorted(Order.objects.values_list("created_at", flat=True)) == [
        p.created for p in plans]


def test_a_chunk_already_claimed_is_not_played_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    background.do_begin(ORDERS, 12345)
    stale = DemoLoad.objects.get()  # what a second worker read before the first one claimed
    background.do_play_next_chunk(10)
    monkeypatch.setattr(background, "current", lambda: stale)
    after = background.do_play_next_chunk(10)
    assert after is not None and after.orders_done == 10
    assert Order.objects.count() == 10


def test_a_directory_already_there_is_not_written_again() -> None:
    background.do_begin(0, 1)
    assert background.do_begin(ORDERS, 12345) is None
    assert DemoLoad.objects.count() == 1


def test_the_scheduler_resumes_an_unfinished_load_only() -> None:
    job = next(job for job in PERIODIC if job.name == "demo-load")
    assert job.when is not None
    assert job.when(None) is False  # no demo at all
    background.do_begin(ORDERS, 12345)
    assert job.when(None) is True
    play_all(40)
    assert job.when(None) is False


def test_pages_work_while_the_orders_are_still_loading(client: Client) -> None:
    background.do_begin(ORDERS, 12345)
    background.do_play_next_chunk(10)
    assert client.get("/").status_code == 200
    agent = User.objects.get(username="agent1")
    client.force_login(agent)
    for name in ("portal:order_list", "insight:reports"):
        response = client.get(reverse(name), follow=True)
        assert response.status_code == 200, name
    leader = User.objects.get(username="leader")
    client.force_login(leader)
    assert client.get(reverse("insight:reports")).status_code == 200


def test_a_demo_without_orders_completes_with_what_needs_none() -> None:
    said: list[str] = []
    assert start.load_if_empty(said.append, 0) is True
    load = DemoLoad.objects.get()
    assert load.finished and load.orders_done == 0
    assert not Order.objects.exclude(channel="mailbox").exists()
    assert Poll.objects.exists()  # the campaign falls back to sample numbers
