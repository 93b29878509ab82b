"""Report benchmark: every registered standard report over a big city on PostgreSQL, answered
from the rollups, checked against a full recount and set beside DuckDB over the same raw rows.

    .venv/bin/python bench/reports.py                                  # the target: 10M / 30M
    .venv/bin/python bench/reports.py --orders 200000 --calls 600000   # a quick run

1. **Load** (its own database, default ``hotline_bench_reports``; a second run reuses the
   rows): the demo city's directory, then orders with their history through the bulk loader
   (``hotline/demo/bulk.py``, COPY) up to ``--orders``, and call records into the contact
   centre's ``QueuedCall`` table up to ``--calls`` (``load_calls``: COPY, its own function so
   the call rollups can be wired to it). ``ANALYZE``.
2. **Rollups**: ``rebuild_order_rollups`` (``manage.py rebuild_rollups``) timed; then
   ``--increment`` more orders are loaded and the incremental job (``refresh_order_rollups``)
   timed over their events.
3. **Reports**: every registered report, ``--runs`` times each with a different range (7, 30,
   92 or 365 days ending on a random day), grouping and filter (none, a district, a type), as
   a leader (the whole city). Timed twice: ``run_report`` alone and ``compare`` (what the page
   and the API answer: the period, the previous period and the same period last year).
4. **Recount**: every measure counted again from the orders table and its history, grouped by
   every rollup dimension, compared row by row with the rollup.
5. **DuckDB**: the raw rows (orders, history events, calls) exported with ``COPY ... TO`` as
   CSV, loaded into DuckDB, and each timed order query run there over the raw rows (the
   measures computed per order from the events, then grouped), totals checked against the
   report's; the calls' raw aggregate (per queue and day) on both.

The last line is one JSON object; keys carry their units.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hotline_bench_reports"
RANGES_DAYS = (7, 30, 92, 365)
CALL_BATCH = 200_000


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--orders", type=int, default=10_000_000, help="orders in the database")
    p.add_argument("--calls", type=int, default=30_000_000, help="call records (QueuedCall)")
    p.add_argument("--increment", type=int, default=10_000,
                   help="orders added after the rebuild, for the incremental job")
    p.add_argument("--runs", type=int, default=20, help="timed runs per report")
    p.add_argument("--batch", type=int, default=50_000, help="bulk loader batch size")
    p.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    p.add_argument("--export-dir", default=str(ROOT / "var" / "bench" / "reports"))
    p.add_argument("--seed", type=int, default=14)
    return p.parse_args(argv)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2) if ordered else 0.0


# --- loading -------------------------------------------------------------------------------

def ensure_directory() -> None:
    from hotline.contactcentre.models import Queue
    from hotline.demo.city import build_directory, build_staff
    from hotline.directory.models import District

    if not District.objects.exists():
        log("building the demo directory")
        build_staff(build_directory())
    for i, name in enumerate(("综合咨询", "投诉举报", "企业服务", "老年人专席"), start=1):
        Queue.objects.get_or_create(code=f"bench-q{i}", defaults={"name": name})


def load_orders_up_to(target: int, batch: int, seed: int) -> dict[str, Any]:
    from hotline.demo.bulk import load_orders
    from hotline.orders.models import Order

    have = Order.objects.count()
    if have >= target:
        return {"orders_loaded": 0}
    log(f"loading {target - have} orders")
    stats = load_orders(target - have, batch_size=batch, seed=seed, check_references=False,
                        progress=lambda n, s: log(f"  {n} orders, {n / max(s, 1e-9):.0f}/s"))
    return {"orders_loaded": stats.orders, "orders_load_s": round(stats.seconds, 1),
            "orders_load_per_s": round(stats.orders_per_s)}


def load_calls(count: int, *, span_days: int = 365, seed: int = 14,
               now: dt.datetime | None = None) -> dict[str, Any]:
    """Write ``count`` finished call records into ``QueuedCall`` with COPY: answered (with a
    wait, a talk time and an agent), abandoned after a wait, or overflowed, spread over the
    ``span_days`` before ``now``. The contact centre's call rollups read these rows."""
    from django.db import connection, transaction
    from django.utils import timezone

    from hotline.contactcentre.models import CallOutcome, Queue, QueuedCall
    from hotline.core.roles import Role
    from hotline.directory.models import User

    if count <= 0:
        return {"calls_loaded": 0}
    rng = random.Random(seed)
    now = now or timezone.now()
    queues = list(Queue.objects.values_list("pk", flat=True))
    agents: list[int | None] = list(User.objects.filter(role=Role.AGENT)
                                    .values_list("pk", flat=True)) or [None]
    table = QueuedCall._meta.db_table
    cols = ("call_ref", "queue_id", "caller", "priority", "outcome", "queued_at", "entered_at",
            "overflow_step", "offered_at", "answered_at", "ended_at", "abandoned_at",
            "overflowed_at", "overflow_action", "wait_s", "agent_id", "unanswered_offers",
            "gateway", "on_hold")
    span = span_days * 86400.0
    started = time.perf_counter()
    done = 0
    while done < count:
        size = min(CALL_BATCH, count - done)
        with transaction.atomic():
            raw = connection.connection
            with raw.cursor() as cursor, cursor.copy(
                    f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for i in range(size):
                    queued = now - dt.timedelta(seconds=rng.random() * span)
                    wait = rng.expovariate(1 / 25.0)
                    roll = rng.random()
                    answered = ended = abandoned = overflowed = None
                    agent = None
                    if roll < 0.86:
                        outcome = CallOutcome.COMPLETED
                        answered = queued + dt.timedelta(seconds=wait)
                        ended = answered + dt.timedelta(seconds=rng.expovariate(1 / 180.0))
                        agent = rng.choice(agents)
                    elif roll < 0.97:
                        outcome = CallOutcome.ABANDONED
                        abandoned = ended = queued + dt.timedelta(seconds=wait)
                    else:
                        outcome = CallOutcome.OVERFLOWED
                        overflowed = ended = queued + dt.timedelta(seconds=wait)
                    copy.write_row((
                        f"bench-{done + i}", rng.choice(queues),
                        f"199{rng.randrange(10**8):08d}", 0, outcome, queued, queued, 0,
                        queued, answered, ended, abandoned, overflowed,
                        "voicemail" if overflowed else "", round(wait, 2), agent, 0, "", False))
        done += size
        log(f"  {done} calls, {done / (time.perf_counter() - started):.0f}/s")
    seconds = time.perf_counter() - started
    return {"calls_loaded": done, "calls_load_s": round(seconds, 1),
            "calls_load_per_s": round(done / seconds)}


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# --- the reports -----------------------------------------------------------------------------

def leader() -> Any:
    from hotline.core.roles import Role
    from hotline.directory.models import User

    user = User.objects.filter(role=Role.LEADER, is_active=True).first()
    if user is None:
        user = User.objects.create(username="bench-leader", role=Role.LEADER)
    return user


def query_mix(report: Any, runs: int, rng: random.Random, newest: dt.date,
              span_days: int) -> list[Any]:
    from hotline.directory.models import District
    from hotline.insight.reports import check_query

    districts = list(District.objects.values_list("code", flat=True))
    queries = []
    for i in range(runs):
        days = RANGES_DAYS[i % len(RANGES_DAYS)]
        end = newest - dt.timedelta(days=rng.randrange(max(1, span_days - days)))
        group = report.group_by[i % len(report.group_by)] if report.group_by else ""
        filters: dict[str, str] = {}
        if "district" in report.filters and i % 3 == 1 and districts:
            filters["district"] = rng.choice(districts)
        elif "type" in report.filters and i % 3 == 2:
            filters["type"] = rng.choice(("complaint", "consultation", "help"))
        queries.append(check_query(report, end - dt.timedelta(days=days - 1), end, filters,
                                   group))
    return queries


def time_reports(runs: int, seed: int) -> tuple[dict[str, Any], list[tuple[Any, Any, Any]]]:
    from django.utils import timezone

    from hotline.insight.reports import compare, reports_for, run_report

    viewer = leader()
    rng = random.Random(seed)
    newest = timezone.localdate()
    out: dict[str, Any] = {}
    timed: list[tuple[Any, Any, Any]] = []
    for report in reports_for(viewer):
        queries = query_mix(report, runs, rng, newest, 365)
        run_report(viewer, report, queries[0])  # warm: plans, directory names
        single, compared = [], []
        for query in queries:
            t0 = time.perf_counter()
            result = run_report(viewer, report, query)
            single.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            compare(viewer, report, query)
            compared.append((time.perf_counter() - t0) * 1000)
            timed.append((report, query, result))
        out[report.name] = {"p50_ms": pct(single, 0.5), "p95_ms": pct(single, 0.95),
                            "compare_p50_ms": pct(compared, 0.5),
                            "compare_p95_ms": pct(compared, 0.95), "runs": len(queries)}
        log(f"  {report.name}: {out[report.name]}")
    return out, timed


def recount() -> dict[str, Any]:
    """The rollup against every measure counted again from the raw tables."""
    from django.db.models import Sum

    from hotline.insight.models import OrderDailyRollup
    from hotline.insight.order_measures import (
        DIMENSIONS,
        GRAINS,
        MEASURE_KEYS,
        dimension_expressions,
        measure_expressions,
    )
    from hotline.orders.models import Order

    keys = ("day", *DIMENSIONS)
    t0 = time.perf_counter()
    annotated = Order.objects.order_by().annotate(
        **{f"d_{k}": v for k, v in dimension_expressions().items()},
        **{f"m_{k}": v for k, v in measure_expressions().items()})
    raw = {tuple(r[f"d_{k}"] for k in keys): tuple(int(r[m]) for m in MEASURE_KEYS)
           for r in annotated.values(*(f"d_{k}" for k in keys))
           .annotate(**{m: Sum(f"m_{m}") for m in MEASURE_KEYS})}
    recount_s = time.perf_counter() - t0
    rolled = {tuple(r[:len(keys)]): tuple(r[len(keys):]) for r in
              OrderDailyRollup.objects.filter(grain="full").values_list(*keys, *MEASURE_KEYS)}
    differing = sum(1 for k in raw.keys() | rolled.keys() if raw.get(k) != rolled.get(k))
    # Every coarser grain holds the same totals per day as the full one.
    per_grain = {
        g: sorted(OrderDailyRollup.objects.filter(grain=g).values("day")
                  .annotate(**{m: Sum(m) for m in MEASURE_KEYS}).values_list("day", *MEASURE_KEYS))
        for g in GRAINS}
    grains_agree = all(rows == per_grain["full"] for rows in per_grain.values())
    return {"recount_s": round(recount_s, 2), "rollup_full_rows": len(rolled),
            "rollup_rows_by_grain": {g: OrderDailyRollup.objects.filter(grain=g).count()
                                     for g in GRAINS},
            "recount_rows_differing": differing, "grains_agree": grains_agree,
            "rollup_matches_recount": differing == 0 and grains_agree}


# --- DuckDB ----------------------------------------------------------------------------------

ORDER_EXPORT = """SELECT id, (created_at AT TIME ZONE %(tz)s)::date AS day,
    coalesce(lead_unit_id, 0) AS unit_id, coalesce(district_id, 0) AS district_id,
    coalesce(category_id, 0) AS category_id, type, channel, state,
    answered_directly::int AS answered_directly,
    dispatched_at AT TIME ZONE 'UTC' AS dispatched_at, signed_at AT TIME ZONE 'UTC' AS signed_at,
    sign_due AT TIME ZONE 'UTC' AS sign_due, replied_at AT TIME ZONE 'UTC' AS replied_at,
    closed_at AT TIME ZONE 'UTC' AS closed_at, handle_due AT TIME ZONE 'UTC' AS handle_due,
    overdue_at AT TIME ZONE 'UTC' AS overdue_at, reopen_count, satisfaction
    FROM orders_order"""
EVENT_EXPORT = "SELECT order_id, action FROM orders_orderevent"
CALL_EXPORT = """SELECT queue_id, (queued_at AT TIME ZONE %(tz)s)::date AS day, outcome, wait_s
    FROM contactcentre_queuedcall"""

# The measures over the raw rows, as order_measures defines them.
DUCK_FACTS = """
CREATE OR REPLACE VIEW facts AS
WITH ev AS (
  SELECT order_id, bool_or(action = 'callback') AS cb, bool_or(action = 'return') AS ret,
         sum(CASE WHEN action = 'approve_extension' THEN 1 ELSE 0 END) AS ext,
         bool_or(action = 'mark_overdue') AS od
  FROM events GROUP BY order_id)
SELECT o.day, o.unit_id, o.district_id, o.category_id, o.type, o.channel,
  1 AS received,
  CASE WHEN o.answered_directly = 1 THEN 1 ELSE 0 END AS direct,
  CASE WHEN o.dispatched_at IS NOT NULL THEN 1 ELSE 0 END AS dispatched,
  CASE WHEN o.signed_at IS NOT NULL THEN 1 ELSE 0 END AS signed,
  CASE WHEN o.signed_at IS NOT NULL AND o.sign_due IS NOT NULL AND o.signed_at <= o.sign_due
       THEN 1 ELSE 0 END AS signed_on_time,
  CASE WHEN o.dispatched_at IS NOT NULL AND (o.replied_at IS NOT NULL OR o.closed_at IS NOT NULL)
       THEN 1 ELSE 0 END AS finished,
  CASE WHEN o.dispatched_at IS NOT NULL AND o.handle_due IS NOT NULL AND (
       (o.replied_at IS NOT NULL AND o.replied_at <= o.handle_due) OR
       (o.replied_at IS NULL AND o.closed_at IS NOT NULL AND o.closed_at <= o.handle_due))
       THEN 1 ELSE 0 END AS finished_on_time,
  CASE WHEN o.state IN ('closed', 'archived') THEN 1 ELSE 0 END AS closed,
  CASE WHEN o.state IN ('closed', 'archived') AND coalesce(ev.cb, false) THEN 1 ELSE 0 END
       AS called_back,
  CASE WHEN coalesce(ev.ret, false) THEN 1 ELSE 0 END AS returned,
  CASE WHEN o.reopen_count > 0 THEN 1 ELSE 0 END AS reopened,
  coalesce(ev.ext, 0) AS extensions,
  CASE WHEN o.overdue_at IS NOT NULL OR coalesce(ev.od, false) THEN 1 ELSE 0 END AS overdue,
  CASE WHEN coalesce(o.satisfaction, '') <> '' THEN 1 ELSE 0 END AS rated,
  CASE WHEN o.satisfaction IN ('satisfied', 'basic') THEN 1 ELSE 0 END AS satisfied
FROM orders o LEFT JOIN ev ON ev.order_id = o.id
"""


def export_raw(directory: Path) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection

    directory.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    files = {}
    for name, sql in (("orders", ORDER_EXPORT), ("events", EVENT_EXPORT), ("calls", CALL_EXPORT)):
        path = directory / f"{name}.csv"
        query = sql.replace("%(tz)s", "'" + settings.TIME_ZONE.replace("'", "") + "'")
        with connection.connection.cursor() as cursor, path.open("wb") as out, \
                cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
            for chunk in copy:
                out.write(chunk)
        files[name] = path
    return {"files": files, "export_s": round(time.perf_counter() - t0, 1)}


def duck_group_sql(query: Any) -> tuple[str, list[Any]]:
    from hotline.insight.order_measures import MEASURE_KEYS
    from hotline.insight.order_reports import GROUP_COLUMN

    column = GROUP_COLUMN.get(query.group_by, "day")
    where, params = ["day BETWEEN ? AND ?"], [query.date_from, query.date_to]
    if "district" in query.filters:
        where.append("district_id = (SELECT id FROM districts WHERE code = ?)")
        params.append(query.filters["district"])
    if "type" in query.filters:
        where.append("type = ?")
        params.append(query.filters["type"])
    sums = ", ".join(f"sum({m}) AS {m}" for m in MEASURE_KEYS)
    return (f"SELECT {column}, {sums} FROM facts WHERE {' AND '.join(where)} "
            f"GROUP BY {column}", params)


def duckdb_side(files: dict[str, Path], timed: list[tuple[Any, Any, Any]]) -> dict[str, Any]:
    import duckdb

    from hotline.directory.models import District

    con = duckdb.connect()
    t0 = time.perf_counter()
    for name, path in files.items():
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv_auto(?)", [str(path)])
    con.execute("CREATE TABLE districts (id BIGINT, code VARCHAR)")
    con.executemany("INSERT INTO districts VALUES (?, ?)",
                    list(District.objects.values_list("pk", "code")))
    con.execute(DUCK_FACTS)
    load_s = time.perf_counter() - t0
    per_report: dict[str, list[float]] = {}
    mismatches = 0
    for report, query, result in timed:
        sql, params = duck_group_sql(query)
        t0 = time.perf_counter()
        rows = con.execute(sql, params).fetchall()
        per_report.setdefault(report.name, []).append((time.perf_counter() - t0) * 1000)
        received = sum(int(r[1] or 0) for r in rows)
        if result.totals.get("received") not in (None, received):
            mismatches += 1
    out = {name: {"p50_ms": pct(v, 0.5), "p95_ms": pct(v, 0.95)}
           for name, v in per_report.items()}
    calls = []
    for days in (30, 92, 365):
        t0 = time.perf_counter()
        con.execute("SELECT queue_id, day, count(*), count(*) FILTER (outcome = 'completed'), "
                    "count(*) FILTER (outcome = 'abandoned'), avg(wait_s) FROM calls "
                    "WHERE day >= (SELECT max(day) FROM calls) - ?::INTEGER "
                    "GROUP BY queue_id, day", [days]).fetchall()
        calls.append((time.perf_counter() - t0) * 1000)
    return {"duckdb_load_s": round(load_s, 1), "reports": out,
            "duckdb_totals_differing": mismatches, "calls_raw_p50_ms": pct(calls, 0.5)}


def pg_calls_raw() -> float:
    from django.db import connection

    times = []
    for days in (30, 92, 365):
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT queue_id, (queued_at AT TIME ZONE current_setting('TimeZone'))::date AS d,"
                " count(*), count(*) FILTER (WHERE outcome = 'completed'), count(*) FILTER "
                "(WHERE outcome = 'abandoned'), avg(wait_s) FROM contactcentre_queuedcall "
                "WHERE queued_at >= now() - make_interval(days => %s) GROUP BY 1, 2", [days])
            cursor.fetchall()
        times.append((time.perf_counter() - t0) * 1000)
    return pct(times, 0.5)


# --- main ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from bench.dbsetup import migrated_django

    if not args.database.startswith("postgres"):
        raise SystemExit("the report benchmark runs on PostgreSQL")
    migrated_django(args.database)
    from hotline.contactcentre.models import QueuedCall
    from hotline.demo.bulk import load_orders
    from hotline.insight.rollups import rebuild_order_rollups, refresh_order_rollups
    from hotline.orders.models import Order, OrderEvent

    result: dict[str, Any] = {"benchmark": "reports", "target_orders": args.orders,
                              "target_calls": args.calls}
    ensure_directory()
    result.update(load_orders_up_to(args.orders, args.batch, args.seed))
    have_calls = QueuedCall.objects.count()
    result.update(load_calls(args.calls - have_calls, seed=args.seed))
    analyze()
    result["orders"] = Order.objects.count()
    result["order_events"] = OrderEvent.objects.count()
    result["calls"] = QueuedCall.objects.count()

    log("rebuilding the order rollups")
    t0 = time.perf_counter()
    rebuild_order_rollups(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    result["rollup_rebuild_s"] = round(time.perf_counter() - t0, 1)
    if args.increment:
        load_orders(args.increment, batch_size=args.batch, seed=args.seed + 1,
                    check_references=False)
        t0 = time.perf_counter()
        stats = refresh_order_rollups(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
        result["incremental_s"] = round(time.perf_counter() - t0, 2)
        result["incremental_events"] = stats.events
        result["incremental_orders"] = stats.orders
        result["orders"] = Order.objects.count()
    analyze()

    log("timing the reports")
    result["reports"], timed = time_reports(args.runs, args.seed)
    result["worst_report_p95_ms"] = max(r["p95_ms"] for r in result["reports"].values())
    result["worst_compare_p95_ms"] = max(r["compare_p95_ms"] for r in result["reports"].values())

    log("recounting from the raw tables")
    result.update(recount())

    log("exporting the raw rows for DuckDB")
    exported = export_raw(Path(args.export_dir))
    result["export_s"] = exported["export_s"]
    duck = duckdb_side(exported["files"], timed)
    result["duckdb_load_s"] = duck["duckdb_load_s"]
    result["duckdb_totals_differing"] = duck["duckdb_totals_differing"]
    side = {}
    for name, pg in result["reports"].items():
        d = duck["reports"].get(name, {})
        side[name] = {"pg_rollup_p50_ms": pg["p50_ms"], "duckdb_raw_p50_ms": d.get("p50_ms"),
                      "duckdb_over_pg_ratio": round(d["p50_ms"] / pg["p50_ms"], 2)
                      if d.get("p50_ms") and pg["p50_ms"] else None}
    result["side_by_side"] = side
    result["calls_pg_raw_p50_ms"] = pg_calls_raw()
    result["calls_duckdb_raw_p50_ms"] = duck["calls_raw_p50_ms"]
    print(json.dumps(result, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
