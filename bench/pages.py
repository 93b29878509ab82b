"""Main pages with 1 million orders on PostgreSQL: p50 / p95 of each page, every role's own.

Target (SPEC §8): every main page p95 < 300 ms with 1 million orders.

    flock /tmp/bench.lock .venv/bin/python bench/pages.py          # the defaults below
    flock /tmp/bench.lock .venv/bin/python bench/pages.py --rounds 5 --orders 20000 \\
        --database-url postgres://postgres@127.0.0.1:5432/hl_pages_small   # a quick check

Steps:

1. **Database** (default ``postgres://postgres@127.0.0.1:5432/hl_pages_1m``, kept between
   runs): created if missing and migrated; the demo city (``load_demo``: districts, centre,
   sub-centres, streets, departments, the catalogue with its routes, staff for every role and
   3,000 orders made through the services) if it has no units.
2. **Orders**: up to ``--orders`` (default 1,000,000) with the bulk loader
   (``manage.py bulk_load_orders``' code: each order with its citizen, contact, the units'
   assignments and a hash-chained history following a real lifecycle path over the last 365
   days); then what the workers would have done by then: the order search index
   (``bench/search.py``'s ``index_orders``, segmentation in two processes), the text features
   of the hot-issue window and one epoch of the standing topics, the order rollups
   (``rebuild_rollups --orders``), the assessment of the recent months; ``VACUUM (ANALYZE)``
   (what autovacuum would have done; the visibility map lets index-only scans skip the heap).
   Each step does only what is missing, so a second run starts timing at once.
3. **Pages**: each page is requested through Django's test client (the whole middleware
   stack, sessions, access checks, templates; production settings: ``HOTLINE_DEBUG=0``, no
   network in between) as the role that uses it: one warm-up request, then ``--rounds``
   (default 20) timed requests; every answer must be 200 (anything else stops the run).
   The users are the demo city's: the centre's agent and shift monitor, the handler and the
   administrator of the department holding most orders, the handler of the street holding most
   orders, a leader; the citizen follows an order of theirs (number and phone) first.

One JSON line: ``<page>_p50_ms`` / ``<page>_p95_ms`` per page, ``max_p95_ms``, the page at
the max, ``target_p95_ms``, ``orders`` and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hl_pages_1m"
TARGET_MS = 300.0


def log(message: str) -> None:
    print(f"[pages] {message}", file=sys.stderr, flush=True)


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def prepare(target: int) -> dict[str, Any]:
    """Steps 1 and 2 of the module doc: only what is missing."""
    from django.core.management import call_command
    from django.db import connection

    from bench.search import index_orders, load_orders
    from hotline.demo import city
    from hotline.directory.models import Unit
    from hotline.insight.models import OrderDailyRollup
    from hotline.orders.models import Order

    out: dict[str, Any] = {}
    if not Unit.objects.exists():
        log("loading the demo city")
        city.load_demo(progress=log)
    if Order.objects.count() < target:
        out.update(load_orders(target, 20_000))
    out.update(index_orders(2, 20_000))
    from hotline.insight import topics
    from hotline.insight.services import BASELINE_DAYS, MAX_RANGE_DAYS
    from hotline.insight.terms import index_missing

    if topics.current_epoch() is None:
        import datetime as dt

        from django.utils import timezone

        since = timezone.now() - dt.timedelta(days=MAX_RANGE_DAYS + BASELINE_DAYS)
        started = time.perf_counter()
        indexed = index_missing(Order.objects.filter(created_at__gte=since))
        log(f"text features of {indexed} orders in {time.perf_counter() - started:.0f} s")
        epoch = topics.do_cluster_epoch()
        log(f"topics epoch: {epoch.orders} orders")
    if not OrderDailyRollup.objects.exists():
        started = time.perf_counter()
        call_command("rebuild_rollups", "--orders", stdout=sys.stderr)
        out["rollups_s"] = round(time.perf_counter() - started, 1)
    from hotline.insight.assessment_models import AssessmentScore
    from hotline.insight.assessment_runs import score_recent_months

    if not AssessmentScore.objects.exists():
        log(f"assessment of {score_recent_months()}")
    with connection.cursor() as cursor:
        # VACUUM too: a live database's autovacuum would have set the visibility map by then
        # (index-only scans read no heap), and this server may run with autovacuum off.
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")
    return out


def _busiest_unit_with(role: str, kind: str) -> tuple[Any, Any]:
    """The unit of ``kind`` holding most active lead assignments among those with a user of
    ``role``, and that user."""
    from django.db.models import Count

    from hotline.directory.models import User
    from hotline.orders.models import Assignment

    staffed = {u.unit_id: u for u in User.objects.filter(role=role, unit__kind=kind,
                                                         is_active=True).order_by("pk")}
    busiest = (Assignment.objects.filter(active=True, role="lead", unit_id__in=list(staffed))
               .values("unit_id").annotate(n=Count("id")).order_by("-n").first())
    if busiest is None:
        raise SystemExit(f"no {kind} with a {role} holds orders: is the demo city loaded?")
    user = staffed[busiest["unit_id"]]
    return user.unit, user


def pages() -> dict[str, tuple[Any, str]]:
    """Page name -> (user or a citizen's client, path)."""
    from hotline.core.roles import Role
    from hotline.directory.models import UnitKind, User
    from hotline.orders.lifecycle import State
    from hotline.orders.models import Order

    centre_agent = User.objects.filter(role=Role.AGENT, unit__kind=UnitKind.CENTRE,
                                       is_active=True).order_by("pk").first()
    monitor = User.objects.filter(role=Role.MONITOR, is_active=True).order_by("pk").first()
    leader = User.objects.filter(role=Role.LEADER, is_active=True).order_by("pk").first()
    department, handler = _busiest_unit_with(Role.DEPT_HANDLER, UnitKind.DEPARTMENT)
    dept_admin = User.objects.filter(role=Role.DEPT_ADMIN, unit=department,
                                     is_active=True).first() or handler
    _street, street_handler = _busiest_unit_with(Role.DEPT_HANDLER, UnitKind.STREET)
    # An order of the department with its whole story (closed: the longest history).
    detail = (Order.objects.filter(lead_unit=department, state=State.CLOSED)
              .order_by("-created_at").values_list("number", flat=True).first())
    followed = (Order.objects.filter(state=State.CLOSED).exclude(citizen__phone="")
                .select_related("citizen").order_by("-created_at").first())
    assert centre_agent and monitor and leader and detail and followed
    citizen = ("citizen", followed.number, followed.citizen.phone)
    return {
        "order_list_centre": (centre_agent, "/orders/"),
        "order_list_department": (handler, "/orders/"),
        "order_list_street": (street_handler, "/orders/"),
        "order_search_phone": (centre_agent, f"/orders/?q={followed.citizen.phone[-4:]}"
                                             "&search_in=phone"),
        "order_detail_centre": (centre_agent, f"/orders/{detail}/"),
        "order_detail_department": (handler, f"/orders/{detail}/"),
        "workbench": (handler, "/workbench/"),
        "workbench_handling": (dept_admin, "/workbench/?tab=handling"),
        # The tabs' counts, which the workbench asks for once it is shown (htmx).
        "workbench_counts": (handler, "/workbench/counts/?tab=to_sign"),
        "handlers_load": (dept_admin, "/workbench/load/"),
        "work_queues": (monitor, "/queues/"),
        "desk": (centre_agent, "/desk/"),
        "reports": (leader, "/insight/reports/"),
        "report_order_volume": (leader, "/insight/reports/order-volume/"),
        "assessment": (leader, "/insight/assessment/"),
        "hot_issues": (leader, "/insight/"),
        "knowledge_search": (centre_agent, "/knowledge/?q=%E5%81%9C%E6%B0%B4"),  # 停水
        "portal_timeline": (citizen, f"/citizen/requests/{followed.number}/"),
    }


def _client(who: Any) -> Any:
    from django.test import Client

    client = Client()
    if isinstance(who, tuple):  # the citizen proves the order is theirs first
        _, number, phone = who
        answer = client.post("/citizen/follow/", {"number": number, "phone": phone})
        if answer.status_code != 302:
            raise SystemExit(f"the citizen could not follow {number}: {answer.status_code}")
    else:
        client.force_login(who)
    return client


def time_pages(rounds: int) -> dict[str, list[float]]:
    clients: dict[int, Any] = {}
    found = pages()
    times: dict[str, list[float]] = {name: [] for name in found}
    # Round-robin over the pages, so a slow moment of the machine spreads over all of them.
    for n in range(rounds + 1):
        for name, (who, path) in found.items():
            client = clients.get(id(who)) or clients.setdefault(id(who), _client(who))
            started = time.perf_counter()
            answer = client.get(path)
            if hasattr(answer, "streaming_content"):
                b"".join(answer.streaming_content)
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code != 200:
                raise SystemExit(f"{name} {path}: HTTP {answer.status_code}")
            if n:  # the first round warms caches and compiles templates
                times[name].append(elapsed)
        if n:
            log(f"round {n}/{rounds}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL",
                                                                 DEFAULT_URL))
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--target-ms", type=float, default=TARGET_MS)
    args = parser.parse_args()
    os.environ.setdefault("HOTLINE_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    from bench.dbsetup import migrated_django

    load_before = os.getloadavg()
    migrated_django(args.database_url)
    out: dict[str, Any] = {"bench": "pages", "vendor": args.database_url.split(":", 1)[0]}
    out.update(prepare(args.orders))
    from hotline.orders.models import Order

    out["orders"] = Order.objects.count()
    out["rounds"] = args.rounds
    load_timing = os.getloadavg()
    times = time_pages(args.rounds)
    worst, worst_page = 0.0, ""
    for name, values in times.items():
        out[f"{name}_p50_ms"] = round(statistics.median(values), 1)
        out[f"{name}_p95_ms"] = round(p95(values), 1)
        log(f"{name}: p50 {out[f'{name}_p50_ms']} ms, p95 {out[f'{name}_p95_ms']} ms")
        if out[f"{name}_p95_ms"] > worst:
            worst, worst_page = out[f"{name}_p95_ms"], name
    out.update(max_p95_ms=worst, max_p95_page=worst_page, target_p95_ms=args.target_ms,
               pages_over_target=[n for n, v in times.items() if p95(v) >= args.target_ms],
               load_avg_before=[round(v, 2) for v in load_before],
               load_avg_timing_start=[round(v, 2) for v in load_timing],
               load_avg_after=[round(v, 2) for v in os.getloadavg()])
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
