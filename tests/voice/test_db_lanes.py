"""The gateway's database jobs for agent calls: in order within a call, calls side by side.

``AgentCalls.db`` runs each ``acd_services`` job in a worker thread. One call's jobs (its queue
entry, answer, hang-up, recording) must be written in the order they were asked; another
call's jobs must not wait behind them (one FIFO per gateway made 150 calls hanging up at once
wait for each other's writes). The jobs here block on threading events with timeouts, so a
gateway-wide lock fails the overlap tests instead of hanging them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace
from typing import Any

from hotline.voice.agentcalls import (
    DB_JOBS_AT_ONCE,
    GATEWAY_LANE,
    AgentCalls,
    DbLanes,
    db_jobs_at_once,
)
from hotline.voice.media.music import MusicSource

WAIT_S = 10.0  # a busy machine (CI shares two cores) may start a thread late


def test_two_calls_jobs_run_at_the_same_time() -> None:
    first_started, second_started = threading.Event(), threading.Event()

    def first_call_job() -> bool:
        first_started.set()
        return second_started.wait(WAIT_S)  # only true if the other call's job ran meanwhile

    def second_call_job() -> bool:
        second_started.set()
        return first_started.wait(WAIT_S)

    async def scene() -> tuple[list[bool], int, int]:
        lanes = DbLanes()
        results = await asyncio.gather(lanes.run("call-1", first_call_job),
                                       lanes.run("call-2", second_call_job))
        return list(results), lanes.peak_running, len(lanes)

    results, peak, left = asyncio.run(scene())
    assert results == [True, True]  # each saw the other running: they overlapped
    assert peak == 2
    assert left == 0  # lanes are forgotten once their jobs are done


def test_one_calls_jobs_stay_in_order_while_another_call_goes_on() -> None:
    spans: dict[str, tuple[float, float]] = {}
    lock = threading.Lock()
    release_first = threading.Event()

    def job(name: str, hold: threading.Event | None = None) -> str:
        started = time.monotonic()
        if hold is not None:
            hold.wait(WAIT_S)
        time.sleep(0.01)
        with lock:
            spans[name] = (started, time.monotonic())
        return name

    def other_call(name: str) -> str:
        done = job(name)
        release_first.set()  # the first call's first job ends only after this one ran
        return done

    async def scene() -> list[str]:
        lanes = DbLanes()
        order: list[str] = []

        async def asked(name: str, lane: str, function: Any, *args: Any) -> None:
            order.append(await lanes.run(lane, function, name, *args))

        # Asked in this order on the loop: answered, ended, recording stored (one call), and
        # meanwhile one job of another call.
        tasks = [asyncio.create_task(asked("answered", "call-1", job, release_first)),
                 asyncio.create_task(asked("ended", "call-1", job)),
                 asyncio.create_task(asked("recording", "call-1", job)),
                 asyncio.create_task(asked("other", "call-2", other_call))]
        await asyncio.wait_for(asyncio.gather(*tasks), 3 * WAIT_S)
        return order

    order = asyncio.run(scene())
    assert release_first.is_set()
    # The other call's job finished while the first call's first job was still running...
    assert spans["other"][1] <= spans["answered"][1]
    assert order[0] == "other"
    # ... and the first call's jobs ran one after the other, in the order asked.
    assert [name for name in order if name != "other"] == ["answered", "ended", "recording"]
    assert spans["answered"][1] <= spans["ended"][0]
    assert spans["ended"][1] <= spans["recording"][0]


def test_agent_calls_db_runs_each_lane_apart() -> None:
    """``AgentCalls.db`` with the lanes its callers pass: a call's (``AcdCall.lane``, the
    caller's Call-ID) and the gateway's own (routing, recovery)."""
    routing_started, call_started = threading.Event(), threading.Event()

    def route() -> bool:
        routing_started.set()
        return call_started.wait(WAIT_S)

    def write_answer() -> bool:
        call_started.set()
        return routing_started.wait(WAIT_S)

    async def scene() -> list[bool]:
        gateway = SimpleNamespace(sip_port=5060)
        agents = AgentCalls(gateway, gateway_id="lanes-test",  # type: ignore[arg-type]
                            music=MusicSource(b"\0\0" * 160), db_jobs=DB_JOBS_AT_ONCE)
        results = await asyncio.gather(agents.db(route),
                                       agents.db(write_answer, lane="caller-call-id"))
        assert len(agents.lanes) == 0
        return list(results)

    assert asyncio.run(scene()) == [True, True]


def test_a_lane_left_by_a_cancelled_job_serves_the_next_one() -> None:
    """A job whose task was cancelled while it waited for its turn leaves the lane usable."""
    gate = threading.Event()

    async def scene() -> tuple[str, int]:
        lanes = DbLanes()
        running = asyncio.create_task(lanes.run(GATEWAY_LANE, gate.wait, WAIT_S))
        waiting = asyncio.create_task(lanes.run(GATEWAY_LANE, str, "never"))
        await asyncio.sleep(0.05)
        waiting.cancel()
        gate.set()
        await running
        after = await lanes.run(GATEWAY_LANE, str, "next")
        return after, len(lanes)

    assert asyncio.run(scene()) == ("next", 0)


def test_at_most_at_once_jobs_run_in_threads() -> None:
    """Many calls' jobs at once take turns for a few threads (each holds the GIL that the
    media loop needs); every job runs."""
    started: list[str] = []
    lock = threading.Lock()

    def job(name: str) -> str:
        with lock:
            started.append(name)
        time.sleep(0.02)
        return name

    async def scene() -> tuple[list[str], int]:
        lanes = DbLanes(at_once=2)
        names = [f"call-{n}" for n in range(8)]
        done = await asyncio.gather(*(lanes.run(name, job, name) for name in names))
        assert list(done) == names
        return started, lanes.peak_running

    order, peak = asyncio.run(scene())
    assert peak == 2
    assert sorted(order) == [f"call-{n}" for n in range(8)]


def test_sqlite_runs_one_job_at_a_time_other_databases_more(monkeypatch: Any) -> None:
    """SQLite's writers take turns for one lock (and sleep while they wait for it): one job
    at a time there; PostgreSQL runs DB_JOBS_AT_ONCE."""
    from django.db import connections

    wrapper = connections["default"]
    monkeypatch.setattr(wrapper, "vendor", "sqlite")
    assert db_jobs_at_once() == 1
    monkeypatch.setattr(wrapper, "vendor", "postgresql")
    assert db_jobs_at_once() == DB_JOBS_AT_ONCE > 1
