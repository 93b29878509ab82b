"""ACD benchmark: replay a real call centre's day against simulated agents through the real ACD.

    .venv/bin/python bench/acd.py                          # defaults: the busiest day, 10-13 h
    .venv/bin/python bench/acd.py --agents 9 --days 1999-08-02 --speedup 0   # quick

The call log is the Technion bank call centre's August 1999 (``../shared/data/callcenter/``):
every call that reached the agents' queue (answered or hung up while waiting) arrives at its
logged time, needs its logged service time and, when it hung up in the log, has its logged
wait as patience (answered callers' patience is their wait plus an exponential draw with the
log's mean patience: the exponential is memoryless). Each call goes through the real code path:
``do_enqueue_call``, ``do_route`` (the pure selection plus the atomic claim of the agent on the
database), ``do_call_answered``, ``do_call_ended``, ``do_expire_wrap_ups``, ``do_call_abandoned``.
Simulated time drives every timestamp written (so waits do not depend on the machine's speed);
wall time is paced at ``--speedup`` times real time and measures the routing latency. The
results are read back from the database's queued-call rows and compared with Erlang C and
Erlang A for the same load and staffing. See bench/README.md. The last line of output is one
JSON object; exit status 1 only when something went wrong (an agent double-booked, the
database and the simulation disagreeing, a crash), never for a figure.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import heapq
import itertools
import json
import math
import os
import random
import secrets
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hotline_bench_acd"
DEFAULT_LOG = ROOT.parent / "shared" / "data" / "callcenter" / "anonymous_bank_1999_08.csv"
DEFAULT_DAYS = "1999-08-01"  # the busiest day of the month between 10 and 13 h


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S", time.gmtime())
    print(f"[acd {stamp}Z] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
                   help="postgres://... (created if missing) or sqlite:///path")
    p.add_argument("--log", type=Path, default=DEFAULT_LOG, help="the call-centre CSV")
    p.add_argument("--days", default=DEFAULT_DAYS, help="comma-separated dates of the log")
    p.add_argument("--hours", default="10-13", help="window of each day, e.g. 10-14")
    p.add_argument("--agents", default="log,erlang",
                   help="staffing levels: numbers, 'log' (the log's agents per hour) and "
                        "'erlang' (Erlang C's staffing for 80%% in 20 s)")
    p.add_argument("--speedup", type=float, default=600.0,
                   help="simulated seconds per wall second (0: as fast as possible)")
    p.add_argument("--sl-seconds", type=float, default=20.0, help="service level threshold")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args(argv)


# --- the log -------------------------------------------------------------------------------

def _secs(text: str) -> int:
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


@dataclass
class LoggedCall:
    day: str
    arrival_s: int  # seconds after midnight: joined the queue, or went straight to an agent
    queue_s: int  # logged time in queue
    answered: bool
    service_s: float
    priority: bool
    server: str
    patience_s: float = math.inf


def read_log(path: Path, days: list[str], start_h: int, end_h: int) -> list[LoggedCall]:
    """Calls of the chosen days and hours that reached the agents (not the VRU's hang-ups, the
    'phantom' calls, or the internet help desk, which had its own agents in another room)."""
    calls = []
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["date"] not in days or row["outcome"] == "PHANTOM" or row["type"] == "IN":
                continue
            queued = row["q_start"] != "0:00:00"
            answered = row["outcome"] == "AGENT"
            if not (queued or answered):
                continue  # hung up in the VRU
            arrival = _secs(row["q_start"] if queued else row["ser_start"])
            if not start_h * 3600 <= arrival < end_h * 3600:
                continue
            calls.append(LoggedCall(
                day=row["date"], arrival_s=arrival, queue_s=int(row["q_time"]) if queued else 0,
                answered=answered, service_s=max(1.0, float(row["ser_time"])),
                priority=row["priority"] == "2", server=row["server"],
            ))
    calls.sort(key=lambda c: (c.day, c.arrival_s))
    return calls


@dataclass
class LogFigures:
    calls: int
    window_s: float
    aht_s: float
    patience_mean_s: float
    staffing: float
    wait_mean_s: float
    service_level: float
    abandon_share: float


def prepare(calls: list[LoggedCall], days: int, start_h: int, end_h: int, sl: float,
            rng: random.Random) -> LogFigures:
    """Fill in what the log does not show (patience of answered callers, service time of those
    who hung up) and measure the log itself."""
    answered = [c for c in calls if c.answered]
    abandoned = [c for c in calls if not c.answered]
    # Exponential patience, maximum likelihood with censoring: abandonments / time in queue.
    total_wait = sum(c.queue_s for c in calls)
    patience = total_wait / max(1, len(abandoned))
    services = [c.service_s for c in answered]
    for c in calls:
        if c.answered:
            c.patience_s = c.queue_s + rng.expovariate(1.0 / patience)
        else:
            c.patience_s = float(c.queue_s)
            c.service_s = rng.choice(services)
    per_hour: dict[tuple[str, int], set[str]] = defaultdict(set)
    for c in answered:
        per_hour[(c.day, c.arrival_s // 3600)].add(c.server)
    hours = days * (end_h - start_h)
    return LogFigures(
        calls=len(calls), window_s=hours * 3600.0,
        aht_s=statistics.fmean(c.service_s for c in calls), patience_mean_s=patience,
        staffing=sum(len(s) for s in per_hour.values()) / hours,
        wait_mean_s=total_wait / len(calls),
        service_level=sum(1 for c in answered if c.queue_s <= sl) / len(calls),
        abandon_share=len(abandoned) / len(calls),
    )


# --- the database --------------------------------------------------------------------------

def ensure_database(url: str) -> None:
    if urlsplit(url).scheme not in ("postgres", "postgresql"):
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            log(f"creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup(url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="hotline.settings", DATABASE_URL=url, HOTLINE_DEBUG="0",
        HOTLINE_SECRET_KEY=os.environ.get("HOTLINE_SECRET_KEY") or secrets.token_urlsafe(50),
        HOTLINE_LOG_LEVEL=os.environ.get("HOTLINE_LOG_LEVEL", "WARNING"),
    )
    import django

    django.setup()
    from django.core.management import call_command

    log("migrating")
    call_command("migrate", verbosity=0)


# --- one staffing level --------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class Replay:
    """Replays the chosen calls against ``agents`` simulated agents, day by day."""

    def __init__(self, calls: list[LoggedCall], agents: int, args: argparse.Namespace,
                 aht_s: float) -> None:
        from hotline.contactcentre.models import (
            AgentSkill,
            AgentStatus,
            Queue,
            QueueSkill,
            Skill,
            SkillKind,
            State,
        )
        from hotline.core.roles import Role
        from hotline.directory.models import User
        from hotline.orders.models import Citizen, CitizenTag

        self.calls, self.args = calls, args
        run = f"{int(time.time())}-{agents}-{secrets.token_hex(3)}"
        # Earlier runs' queues stop routing; their agents are signed out below.
        Queue.objects.filter(code__startswith="bench-").update(active=False)
        AgentStatus.objects.filter(agent__username__startswith="acd-").update(
            state=State.SIGNED_OUT, call=None)
        skill, _ = Skill.objects.get_or_create(
            code="bench-retail", defaults={"name": "零售银行", "kind": SkillKind.BUSINESS})
        self.queue = Queue.objects.create(code=f"bench-{run}"[:32], name=f"bench {agents}",
                                          sticky_wait_s=0, wrap_up_s=0,
                                          aht_s=round(aht_s))
        QueueSkill.objects.create(queue=self.queue, skill=skill, min_level=1)
        self.agents = []
        for i in range(agents):
            user = User.objects.create_user(username=f"acd-{run}-{i}", role=Role.AGENT,
                                            display_name=f"模拟坐席{i + 1}")
            AgentSkill.objects.create(agent=user, skill=skill, level=1 + i % 10)
            self.agents.append(user)
        # The bank's priority customers ride on the hotline's priority for tagged citizens.
        self.priority_phone = "10000000002"
        Citizen.objects.get_or_create(phone=self.priority_phone,
                                      defaults={"tags": [CitizenTag.ELDERLY]})
        self.route_ms: list[float] = []  # event start to the ring's commit
        self.arrival_route_ms: list[float] = []  # the same, for calls routed as they arrive
        self.late_ms: list[float] = []  # how late events started against the paced schedule
        self.route_cpu_ms: list[float] = []  # this process's CPU for the same span as route_ms
        self.tally = {"answered": 0, "abandoned": 0, "within": 0}
        self.wait_sum = 0.0

    def run(self) -> None:
        by_day: dict[str, list[LoggedCall]] = defaultdict(list)
        for c in self.calls:
            by_day[c.day].append(c)
        for day, calls in sorted(by_day.items()):
            self._day(day, calls)

    def _day(self, day: str, calls: list[LoggedCall]) -> None:
        from hotline.contactcentre import services

        start_h = int(self.args.hours.split("-")[0])
        midnight = dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)
        t0 = start_h * 3600.0

        def at(t: float) -> dt.datetime:
            return midnight + dt.timedelta(seconds=t)

        for i, agent in enumerate(self.agents):  # everyone ready at the window's start
            services.do_sign_in(agent, now=at(t0 - 60))
            services.do_set_state(agent, "ready", now=at(t0 - 60 + i * 0.001))
        events: list[tuple[float, int, str, Any]] = []
        seq = 0
        for c in calls:
            events.append((float(c.arrival_s), seq := seq + 1, "arrive", c))
        heapq.heapify(events)
        waiting: dict[int, LoggedCall] = {}  # queued-call id -> logged call
        arrived_at: dict[int, float] = {}
        wall0 = time.perf_counter()
        log(f"{day}: {len(calls)} calls, {len(self.agents)} agents")
        while events:
            t, _, kind, item = heapq.heappop(events)
            if self.args.speedup > 0:
                due = wall0 + (t - t0) / self.args.speedup
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                else:
                    self.late_ms.append(-delay * 1000.0)
            started = time.perf_counter()
            started_cpu = time.process_time()
            now = at(t)
            if kind == "arrive":
                caller = self.priority_phone if item.priority else ""
                queued = services.do_enqueue_call(self.queue, call_ref=f"{day}-{seq}",
                                                  caller=caller, now=now)
                waiting[queued.pk] = item
                arrived_at[queued.pk] = t
                heapq.heappush(events, (t + item.patience_s, seq := seq + 1, "patience",
                                        queued.pk))
            elif kind == "patience":
                if item in waiting:
                    services.do_call_abandoned(item, now)
                    del waiting[item]
                    self.tally["abandoned"] += 1
                    self.wait_sum += t - arrived_at[item]
                continue
            else:  # "end": the agent hangs up; no wrap-up in the bank's log
                services.do_call_ended(item, now)
                services.do_expire_wrap_ups(now)
            result = services.do_route(now, queue_ids=[self.queue.pk])
            rung = time.perf_counter()
            rung_cpu = time.process_time()
            for offer in result.offers:
                self.route_ms.append((rung - started) * 1000.0)
                self.route_cpu_ms.append((rung_cpu - started_cpu) * 1000.0)
                if kind == "arrive" and offer.call == queued.pk:
                    self.arrival_route_ms.append((rung - started) * 1000.0)
                services.do_call_answered(offer.call, now)
                logged = waiting.pop(offer.call)
                wait = t - arrived_at[offer.call]
                self.tally["answered"] += 1
                self.tally["within"] += wait <= self.args.sl_seconds
                self.wait_sum += wait
                heapq.heappush(events, (t + logged.service_s, seq := seq + 1, "end", offer.call))
        if waiting:
            raise RuntimeError(f"{len(waiting)} calls never left the queue on {day}")
        for agent in self.agents:
            services.do_sign_out(agent, now=at(t + 1))
        log(f"{day}: done in {time.perf_counter() - wall0:.1f} s wall")

    def figures(self) -> dict[str, Any]:
        """The run's figures, read back from the database and checked against the tally."""
        from hotline.contactcentre.models import CallOutcome, QueuedCall

        rows: list[tuple[Any, ...]] = list(QueuedCall.objects.filter(queue=self.queue)
                                           .values_list("outcome", "wait_s", "agent_id",
                                                        "answered_at", "ended_at"))
        n = len(rows)
        answered = [r for r in rows if r[0] == CallOutcome.COMPLETED]
        abandoned = [r for r in rows if r[0] == CallOutcome.ABANDONED]
        within = sum(1 for r in answered if r[1] <= self.args.sl_seconds)
        wait_mean = sum(r[1] for r in rows) / n
        problems = []
        if (len(answered), len(abandoned), within) != (
                self.tally["answered"], self.tally["abandoned"], self.tally["within"]):
            problems.append(f"database {len(answered), len(abandoned), within} != simulation "
                            f"{self.tally}")
        if len(answered) + len(abandoned) != n:
            problems.append(f"{n - len(answered) - len(abandoned)} calls neither answered nor "
                            "abandoned")
        if abs(wait_mean - self.wait_sum / n) > 1e-6:
            problems.append("mean wait differs between database and simulation")
        by_agent: dict[int, list[tuple[Any, Any]]] = defaultdict(list)
        for r in answered:
            by_agent[r[2]].append((r[3], r[4]))
        double = 0
        for spans in by_agent.values():
            spans.sort()
            double += sum(1 for a, b in itertools.pairwise(spans) if b[0] < a[1])
        if double:
            problems.append(f"{double} calls overlapped another call of the same agent")
        return {
            "calls": n, "answered": len(answered), "abandoned": len(abandoned),
            "wait_mean_s": round(wait_mean, 2),
            "service_level_pct": round(100.0 * within / n, 2),
            "abandon_pct": round(100.0 * len(abandoned) / n, 2),
            "double_booked": double, "problems": problems,
        }


# --- theory and the whole run --------------------------------------------------------------

def theory(agents: int, load: float, aht: float, patience: float, sl: float) -> dict[str, Any]:
    from hotline.contactcentre.acd.erlang import erlang_a_figures, erlang_c_figures

    def pack(f: Any) -> dict[str, float] | None:
        if f is None:
            return None
        return {"wait_mean_s": round(f.mean_wait_s, 2),
                "service_level_pct": round(100.0 * f.service_level, 2),
                "abandon_pct": round(100.0 * f.p_abandon, 2),
                "p_wait_pct": round(100.0 * f.p_wait, 2)}

    return {"erlang_c": pack(erlang_c_figures(agents, load, aht, sl)),
            "erlang_a": pack(erlang_a_figures(agents, load, aht, patience, sl))}


def erlang_staffing(load: float, aht: float, sl: float, target: float = 0.8) -> int:
    from hotline.contactcentre.acd.erlang import erlang_c_figures

    n = max(1, math.floor(load) + 1)
    while True:
        f = erlang_c_figures(n, load, aht, sl)
        if f is not None and f.service_level >= target:
            return n
        n += 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wall_start = time.perf_counter()
    days = [d.strip() for d in args.days.split(",") if d.strip()]
    start_h, end_h = (int(x) for x in args.hours.split("-"))
    rng = random.Random(args.seed)
    calls = read_log(args.log, days, start_h, end_h)
    if not calls:
        print(f"no calls in {args.log} for {days} {args.hours} h", file=sys.stderr)
        return 2
    figures = prepare(calls, len(days), start_h, end_h, args.sl_seconds, rng)
    load = figures.calls / figures.window_s * figures.aht_s
    log(f"{figures.calls} calls, {figures.calls / figures.window_s * 3600:.1f} per hour, "
        f"mean service {figures.aht_s:.0f} s, mean patience {figures.patience_mean_s:.0f} s, "
        f"offered load {load:.2f} Erlangs, the log's staffing about {figures.staffing:.1f}")
    levels: list[int] = []
    for item in args.agents.split(","):
        item = item.strip()
        n = (round(figures.staffing) if item == "log" else
             erlang_staffing(load, figures.aht_s, args.sl_seconds) if item == "erlang" else
             int(item))
        if n not in levels:
            levels.append(n)
    ensure_database(args.database_url)
    setup(args.database_url)
    from django.db import connection

    report: dict[str, Any] = {
        "database": connection.vendor, "days": days, "hours": args.hours,
        "speedup": args.speedup, "calls": figures.calls,
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "arrivals_per_h": round(figures.calls / figures.window_s * 3600, 2),
        "aht_s": round(figures.aht_s, 1), "patience_mean_s": round(figures.patience_mean_s, 1),
        "offered_load_erlangs": round(load, 3),
        "log": {"staffing_agents": round(figures.staffing, 2),
                "wait_mean_s": round(figures.wait_mean_s, 2),
                "service_level_pct": round(100.0 * figures.service_level, 2),
                "abandon_pct": round(100.0 * figures.abandon_share, 2)},
        "runs": [],
    }
    failed = False
    for agents in levels:
        replay = Replay(calls, agents, args, figures.aht_s)
        began = time.perf_counter()
        replay.run()
        sim = replay.figures()
        failed = failed or bool(sim["problems"])
        run = {"agents": agents, "sim": sim,
               **theory(agents, load, figures.aht_s, figures.patience_mean_s, args.sl_seconds),
               "route_p50_ms": _ms(percentile(replay.route_ms, 0.5)),
               "route_p99_ms": _ms(percentile(replay.route_ms, 0.99)),
               "route_cpu_p50_ms": _ms(percentile(replay.route_cpu_ms, 0.5)),
               "route_cpu_p99_ms": _ms(percentile(replay.route_cpu_ms, 0.99)),
               "arrival_route_p50_ms": _ms(percentile(replay.arrival_route_ms, 0.5)),
               "arrival_route_p99_ms": _ms(percentile(replay.arrival_route_ms, 0.99)),
               "rings": len(replay.route_ms),
               "late_events": len(replay.late_ms),
               "late_p99_ms": _ms(percentile(replay.late_ms, 0.99)),
               "wall_s": round(time.perf_counter() - began, 1)}
        log(json.dumps(run, ensure_ascii=False))
        report["runs"].append(run)
    report["wall_s"] = round(time.perf_counter() - wall_start, 1)
    print(json.dumps(report, ensure_ascii=False))
    return 1 if failed else 0


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


if __name__ == "__main__":
    sys.exit(main())
