"""Synthetic call records in bulk, for the report benchmarks: ``load_call_records(n)`` writes
``n`` finished queued calls (answered, abandoned short and long, overflowed) spread over the
last ``days`` days with a working-day profile, through COPY on PostgreSQL (``executemany`` on
SQLite), one transaction per batch. 30 million rows take a few minutes on PostgreSQL.

The figures are drawn from fixed distributions with a seed, so two loads with the same
arguments write the same calls: an 8 % abandon rate (a third of it within the short-abandon
limit), 2 % overflow, waits exponential (mean 12 s), talk log-normal (median 150 s), a fifth
of the answered calls held (mean 30 s), each answered call given to the agent free soonest
(so at peak the callers wait for the agents, as they would). With ``with_states`` each
answered call also writes its agent's state log (offer, answer, hang-up, end of wrap-up),
four rows a call.

    from bench.call_data import load_call_records
    load_call_records(30_000_000)          # after django.setup() on the benchmark database
    call_command("rebuild_rollups", "--calls")   # then the reports read the rollups
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

DEFAULT_BATCH = 200_000
WRAP_UP_S = 15.0
HOURLY = (1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 13, 10, 12, 15, 14, 12, 9, 6, 5, 4, 3, 2, 1)
Progress = Callable[[int, float], None]

CALL_COLUMNS = ("call_ref", "queue_id", "caller", "priority", "outcome", "queued_at",
                "entered_at", "overflow_step", "offered_at", "answered_at", "ended_at",
                "abandoned_at", "overflowed_at", "overflow_action", "wait_s", "agent_id",
                "unanswered_offers", "gateway", "on_hold", "held_at", "hold_s")
STATE_COLUMNS = ("agent_id", "at", "action", "from_state", "to_state", "reason", "call_id")


@dataclass(frozen=True)
class LoadedCalls:
    calls: int
    state_changes: int
    seconds: float

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0


def bench_queues_and_agents(queues: int = 4, agents: int = 300) -> tuple[list[int], list[int]]:
    """Queues ``bench-q1``... and agents ``bench-agent-001``..., created when missing."""
    from hotline.contactcentre.models import Queue
    from hotline.core.roles import Role
    from hotline.directory.models import User

    queue_ids = [Queue.objects.get_or_create(
        code=f"bench-q{i}", defaults={"name": f"测试队列{i}"})[0].pk for i in range(1, queues + 1)]
    existing = set(User.objects.filter(username__startswith="bench-agent-")
                   .values_list("username", flat=True))
    User.objects.bulk_create([User(username=f"bench-agent-{i:03d}", role=Role.AGENT,
                                   display_name=f"测试坐席{i:03d}", is_active=True)
                              for i in range(1, agents + 1)
                              if f"bench-agent-{i:03d}" not in existing])
    agent_ids = list(User.objects.filter(username__startswith="bench-agent-")
                     .order_by("username").values_list("pk", flat=True)[:agents])
    return queue_ids, agent_ids


def _moments(rng: random.Random, n: int, start: dt.datetime, end: dt.datetime
             ) -> list[dt.datetime]:
    """``n`` sorted moments in [start, end), busier in the centre's working hours (rejection
    sampling on the local hour's weight)."""
    span = (end - start).total_seconds()
    top = max(HOURLY)
    out: list[dt.datetime] = []
    while len(out) < n:
        moment = start + dt.timedelta(seconds=rng.random() * span)
        if rng.random() * top < HOURLY[timezone.localtime(moment).hour]:
            out.append(moment.astimezone(dt.UTC))
    out.sort()
    return out


class _Agents:
    """Who is free when: each answered call goes to the agent free soonest, so no agent has
    two calls at once and the state log is a real one (offer, answer, hang-up, wrap-up)."""

    def __init__(self, ids: Sequence[int], since: dt.datetime) -> None:
        self.free = [(since, pk) for pk in ids]
        heapq.heapify(self.free)

    def take(self, at: dt.datetime) -> tuple[int, dt.datetime]:
        free_at, pk = heapq.heappop(self.free)
        return pk, max(free_at, at)

    def release(self, pk: int, at: dt.datetime) -> None:
        heapq.heappush(self.free, (at, pk))


def _call(rng: random.Random, ref: str, queued: dt.datetime, queue_id: int, agents: _Agents
          ) -> tuple[tuple[object, ...], tuple[int, dt.datetime, dt.datetime, dt.datetime,
                                              dt.datetime] | None]:
    draw = rng.random()
    none = None
    if draw < 0.08:  # abandoned: a third of them within the short-abandon limit
        wait = rng.uniform(0.5, 5.0) if rng.random() < 1 / 3 else 5.0 + rng.expovariate(1 / 40.0)
        gone = queued + dt.timedelta(seconds=wait)
        return ((ref, queue_id, "", 0, "abandoned", queued, queued, 0, none, none, none, gone,
                 none, "", wait, none, 0, "", False, none, 0.0), None)
    if draw < 0.10:  # overflowed to a call-back request
        wait = 60 + rng.expovariate(1 / 12.0)
        moved = queued + dt.timedelta(seconds=wait)
        return ((ref, queue_id, "", 0, "overflowed", queued, queued, 0, none, none, none, none,
                 moved, "callback", wait, none, 0, "", False, none, 0.0), None)
    agent, offered = agents.take(queued + dt.timedelta(seconds=rng.expovariate(1 / 6.0)))
    answered = offered + dt.timedelta(seconds=rng.uniform(2, 8))
    wait = (answered - queued).total_seconds()
    talk = math.exp(rng.gauss(math.log(150), 0.6))
    ended = answered + dt.timedelta(seconds=talk)
    hold = rng.expovariate(1 / 30.0) if rng.random() < 0.2 else 0.0
    ready = ended + dt.timedelta(seconds=WRAP_UP_S)
    agents.release(agent, ready)
    return ((ref, queue_id, "", 0, "completed", queued, queued, 0, offered, answered, ended,
             none, none, "", wait, agent, 0, "", False, none, min(hold, talk)),
            (agent, offered, answered, ended, ready))


def _copy(table: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]) -> None:
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    name = connection.ops.quote_name(table)
    if connection.vendor == "postgresql":
        raw = connection.connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        # Raw parameters skip the ORM's conversion: store times as the ORM does (UTC text).
        adapt = connection.ops.adapt_datetimefield_value
        marks = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {name} ({quoted}) VALUES ({marks})",
                               [tuple(adapt(v) if isinstance(v, dt.datetime) else v  # type: ignore[misc]
                                      for v in row) for row in rows])


def _batches(n: int, size: int) -> Iterator[tuple[int, int]]:
    done = 0
    while done < n:
        yield done, min(size, n - done)
        done += size


def load_call_records(n: int, *, days: int = 365, now: dt.datetime | None = None,
                      queue_ids: Sequence[int] | None = None,
                      agent_ids: Sequence[int] | None = None, seed: int = 12345,
                      batch_size: int = DEFAULT_BATCH, with_states: bool = False,
                      progress: Progress | None = None) -> LoadedCalls:
    """Write ``n`` finished calls over the ``days`` local days up to ``now`` (see the module
    doc). Queues and agents default to ``bench_queues_and_agents()``."""
    from hotline.contactcentre.models import QueuedCall, StateChange

    now = now or timezone.now()
    if queue_ids is None or agent_ids is None:
        made_queues, made_agents = bench_queues_and_agents()
        queue_ids, agent_ids = queue_ids or made_queues, agent_ids or made_agents
    rng = random.Random(seed)
    start = now - dt.timedelta(days=days)
    span = now - start
    agents = _Agents(agent_ids, start)
    run = f"{seed:x}-{int(now.timestamp()):x}"
    started = time.monotonic()
    states = 0
    for offset, count in _batches(n, batch_size):
        # Batches follow each other in time, so the agents' calls follow each other too.
        moments = _moments(rng, count, start + span * (offset / n),
                           start + span * ((offset + count) / n))
        calls, legs = [], []
        for i, queued in enumerate(moments):
            row, leg = _call(rng, f"bench-{run}-{offset + i}", queued,
                             queue_ids[rng.randrange(len(queue_ids))], agents)
            calls.append(row)
            legs.append(leg)
        with transaction.atomic():
            first_id = (QueuedCall.objects.order_by("-pk").values_list("pk", flat=True).first()
                        or 0) + 1
            _copy(QueuedCall._meta.db_table, CALL_COLUMNS, calls)
            if with_states:
                ids = dict(QueuedCall.objects.filter(
                    pk__gte=first_id, call_ref__startswith=f"bench-{run}-")
                    .values_list("call_ref", "pk"))
                changes = []
                for row, leg in zip(calls, legs, strict=True):
                    if leg is None:
                        continue
                    agent, offered, answered, ended, ready = leg
                    call_id = ids[str(row[0])]
                    changes += [(agent, offered, "offer", "idle", "ringing", "", call_id),
                                (agent, answered, "answer", "ringing", "talking", "", call_id),
                                (agent, ended, "hang_up", "talking", "wrap_up", "", call_id),
                                (agent, ready, "wrap_up_end", "wrap_up", "idle", "", call_id)]
                _copy(StateChange._meta.db_table, STATE_COLUMNS, changes)
                states += len(changes)
        if progress is not None:
            progress(offset + count, time.monotonic() - started)
    return LoadedCalls(n, states, time.monotonic() - started)
