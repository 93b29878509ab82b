"""Search benchmark: knowledge-base and work-order search latency (p50/p95) on SQLite (FTS5)
and PostgreSQL (tsvector), with many orders loaded.

    .venv/bin/python bench/search.py --vendor sqlite                  # 1,000,000 orders
    .venv/bin/python bench/search.py --vendor postgresql --orders 200000 --procs 2
    .venv/bin/python bench/search.py --vendor sqlite --orders 20000 --rounds 3   # a quick check

What it does: creates and migrates the database if needed (SQLite: var/bench/search.sqlite3;
PostgreSQL: --database-url, default hl_kb_bench), tops it up to --orders synthetic orders with
the bulk loader, indexes the new ones (jieba in --procs processes, the index written by the
same backend code production uses), adds --entries published knowledge entries (the demo set
plus synthetic guides), then times, for a set of queries typed by agents:
  knowledge: search_entries (all words must match, ranked, highlighted, 20 results)
  suggest:   suggest_entries for a sentence being typed (any word, 5 results)
  orders_centre: search_orders for a centre agent (sees every order, 20 results)
  orders_department: search_orders for a department handler (scope filter, 20 results)
Each query is run once to warm up, then --rounds times. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/hl_kb_bench"

QUERIES = [
    "停水", "噪音扰民", "夜间施工", "路灯不亮", "垃圾清运", "占道经营", "公交站台", "停车位",
    "社保卡 办理", "鼓楼区 停水", "幸福小区 停水", "施工 噪音", "路灯 维修", "垃圾 气味",
    "公积金 提取", "拖欠工资", "电梯 困人", "燃气泄漏", "身份证 补办", "医保 异地就医",
]
TYPED = [
    "您好，我家小区从昨天晚上开始停水了，也没有通知，想问一下什么时候恢复",
    "楼下工地每天晚上施工到很晚，噪音很大，睡不着觉",
    "我想咨询一下社保卡在哪里办理，需要带什么材料",
    "公司已经三个月没发工资了，老板也联系不上",
    "闻到家里有燃气味，怎么办",
]


def log(message: str) -> None:
    print(f"[search {time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", file=sys.stderr,
          flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--vendor", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--database-url", default=None,
                   help="default: var/bench/search.sqlite3 or " + DEFAULT_PG_URL)
    p.add_argument("--orders", type=int, default=1_000_000)
    p.add_argument("--entries", type=int, default=5000)
    p.add_argument("--procs", type=int, default=2, help="segmentation processes for indexing")
    p.add_argument("--rounds", type=int, default=5, help="timed runs of every query")
    p.add_argument("--batch", type=int, default=20_000, help="orders per load/index batch")
    return p.parse_args(argv)


def setup(args: argparse.Namespace) -> None:
    url = args.database_url
    if url is None:
        if args.vendor == "sqlite":
            (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{ROOT / 'var' / 'bench' / 'search.sqlite3'}"
        else:
            url = DEFAULT_PG_URL
    if url.startswith("postgres"):
        from bench.intake import ensure_database

        ensure_database(url)
    os.environ.update({
        "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "hotline.settings",
        "HOTLINE_ALLOW_DEV_SECRET": "1", "HOTLINE_DEBUG": "0",
    })
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def load_orders(target: int, batch: int) -> dict[str, Any]:
    from hotline.orders import bulk
    from hotline.orders.models import Order

    bulk.ensure_minimal_directory()
    existing = Order.objects.count()
    missing = max(0, target - existing)
    if missing:
        log(f"loading {missing} orders")
        started = time.perf_counter()
        bulk.load_orders(missing, batch_size=batch,
                         progress=lambda n, s: log(f"  {n} orders in {s:.0f} s"))
        log(f"loaded in {time.perf_counter() - started:.0f} s")
    return {"orders": Order.objects.count(), "orders_loaded_now": missing}


def _segment(rows: list[tuple[int, str, str]]) -> list[tuple[int, tuple[list[str], list[str]]]]:
    from hotline.knowledge import segmentation

    return [(pk, (segmentation.index_tokens(t), segmentation.index_tokens(x))) for pk, t, x in rows]


def index_orders(procs: int, batch: int) -> dict[str, Any]:
    """index_new_orders, with the segmentation spread over processes (the index writes stay in
    this process, like the production catch-up)."""
    from django.db import connections, transaction

    from hotline.knowledge import segmentation
    from hotline.knowledge.backends import ORDER_INDEX, backend
    from hotline.orders.models import Order

    segmentation.reload_user_words()
    # Forked children must not touch the database: no dictionary refresh, no open connection.
    segmentation.DICTIONARY_REFRESH_SECONDS = 10**9
    search = backend()
    last = search.max_id(ORDER_INDEX)
    total = Order.objects.filter(pk__gt=last).count()
    if not total:
        return {"orders_indexed_now": 0}
    log(f"indexing {total} orders with {procs} process(es)")
    started = time.perf_counter()
    done = 0
    chunk = max(1, batch // (procs * 4))
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        while True:
            rows = list(Order.objects.filter(pk__gt=last).order_by("pk")
                        .values_list("pk", "title", "text")[:batch])
            if not rows:
                break
            parts = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
            documents = [doc for part in pool.map(_segment, parts) for doc in part]
            with transaction.atomic():
                search.replace(ORDER_INDEX, documents)
            last = rows[-1][0]
            done += len(rows)
            log(f"  {done}/{total} indexed, {done / (time.perf_counter() - started):.0f}/s")
    seconds = time.perf_counter() - started
    return {"orders_indexed_now": done, "index_seconds": round(seconds, 1),
            "index_orders_per_s": round(done / seconds)}


def load_entries(target: int) -> dict[str, Any]:
    """The demo entries, then synthetic published guides up to ``target`` (written directly,
    then indexed by rebuild_entry_index: the services' per-entry path is tested elsewhere)."""
    import random

    from django.db import transaction
    from django.utils import timezone

    from hotline.directory.models import Category, District, Unit, UnitKind
    from hotline.knowledge import demo_entries, indexing
    from hotline.knowledge.demo import load_demo_knowledge
    from hotline.knowledge.models import Entry, EntryVersion
    from hotline.knowledge.richtext import text_to_html

    if not Entry.objects.exists():
        load_demo_knowledge()
    missing = target - Entry.objects.count()
    if missing > 0:
        log(f"adding {missing} synthetic entries")
        rng = random.Random(7)
        units = list(Unit.objects.exclude(kind=UnitKind.STREET)) or list(Unit.objects.all())
        categories = list(Category.objects.values_list("name", flat=True)) or ["供水"]
        districts = list(District.objects.values_list("name", flat=True)) or ["示范区"]
        bodies = [e[4] for e in demo_entries.ENTRIES]
        now = timezone.now()
        with transaction.atomic():
            for start in range(0, missing, 1000):
                entries = []
                for _ in range(min(1000, missing - start)):
                    district, category = rng.choice(districts), rng.choice(categories)
                    entries.append(Entry(
                        kind=rng.choice(["guide", "policy", "faq", "city"]),
                        title=f"{district}{category}问题办事指南{rng.randint(1, 999)}",
                        keywords=f"{category} {district}", body=text_to_html(rng.choice(bodies)),
                        owner=rng.choice(units), state="published", created_at=now,
                        updated_at=now))
                Entry.objects.bulk_create(entries)
                versions = EntryVersion.objects.bulk_create([
                    EntryVersion(entry=e, number=1, kind=e.kind, title=e.title, body=e.body,
                                 keywords=e.keywords, public=True, for_voice=False,
                                 published_at=now) for e in entries])
                for entry, version in zip(entries, versions, strict=True):
                    entry.published = version
                Entry.objects.bulk_update(entries, ["published"])
    started = time.perf_counter()
    indexed = indexing.rebuild_entry_index()
    return {"entries": indexed, "entry_index_seconds": round(time.perf_counter() - started, 1)}


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 2), "p95": round(p95, 2),
            "mean": round(statistics.fmean(ordered), 2), "n": len(ordered)}


def users() -> tuple[Any, Any]:
    from hotline.directory.models import Role, Unit, UnitKind, User
    from hotline.orders.models import Assignment

    centre = Unit.objects.filter(kind=UnitKind.CENTRE).order_by("pk").first()
    agent, _ = User.objects.get_or_create(username="bench_search_agent",
                                          defaults={"role": Role.AGENT, "unit": centre})
    busiest = (Assignment.objects.values("unit_id").order_by("unit_id").first() or {}).get("unit_id")
    unit = Unit.objects.filter(pk=busiest).first() or Unit.objects.filter(
        kind=UnitKind.DEPARTMENT).first()
    handler, _ = User.objects.get_or_create(username="bench_search_handler",
                                            defaults={"role": Role.DEPT_HANDLER, "unit": unit})
    return agent, handler


def measure(rounds: int) -> dict[str, Any]:
    from django.db import connection

    from hotline.knowledge.search import search_entries, search_orders, suggest_entries

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    agent, handler = users()
    cases = {
        "knowledge": [(lambda q=q: search_entries(agent, q, limit=20)) for q in QUERIES],
        "suggest": [(lambda t=t: suggest_entries(agent, t, limit=5)) for t in TYPED],
        "orders_centre": [(lambda q=q: search_orders(agent, q, limit=20)) for q in QUERIES],
        "orders_department": [(lambda q=q: search_orders(handler, q, limit=20)) for q in QUERIES],
    }
    result: dict[str, Any] = {}
    for name, calls in cases.items():
        hits = [len(call()) for call in calls]  # warm-up, and how many results came back
        samples = []
        for _ in range(rounds):
            for call in calls:
                started = time.perf_counter()
                call()
                samples.append((time.perf_counter() - started) * 1000)
        result[f"{name}_ms"] = _stats(samples)
        result[f"{name}_queries_with_hits"] = sum(1 for h in hits if h)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup(args)
    from django.db import connection

    out: dict[str, Any] = {"vendor": connection.vendor}
    out.update(load_orders(args.orders, args.batch))
    out.update(index_orders(args.procs, args.batch))
    out.update(load_entries(args.entries))
    log("measuring")
    out.update(measure(args.rounds))
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
