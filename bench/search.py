"""Search benchmark: knowledge-base and work-order search latency (p50/p95) on SQLite (FTS5)
and PostgreSQL (tsvector), with many orders loaded.

    .venv/bin/python bench/search.py --vendor sqlite                  # 1,000,000 orders
    .venv/bin/python bench/search.py --vendor postgresql --orders 200000 --procs 2
    .venv/bin/python bench/search.py --vendor sqlite --orders 20000 --rounds 3   # a quick check

What it does: creates and migrates the database if needed (SQLite: var/bench/search.sqlite3;
PostgreSQL: --database-url, default hl_kb_bench), tops it up to --orders synthetic orders with
the bulk loader (a PostgreSQL superuser skips the foreign-key checks), indexes the new ones
(jieba in --procs processes, each distinct text segmented once, the index written by the same
backend code production uses); above --seed-orders (50,000) the orders are in-database copies
of that indexed seed, with their assignments and index rows (bench/order_copies.py); adds
--entries published knowledge entries (the demo set plus synthetic guides), plants three rare
words into a few orders (PLANTED: 3 old ones, 40 spread, 300 recent; the templates' words are
common and some queries match nothing), gives a street office one order in 1,000 and sets up a
sub-centre (--load-only stops here), then times, for queries typed by agents:
  knowledge: search_entries (all words must match, ranked, highlighted, 20 results)
  suggest:   suggest_entries for a sentence being typed (any word, 5 results)
  orders_centre: search_orders for a centre agent (sees every order, 20 results)
  orders_subcentre: search_orders for a sub-centre agent (its district: one order in 20, and
                   a street office under it: one in 500)
  orders_department: search_orders for a department handler (scope filter, 20 results)
  orders_street: search_orders for a street office holding one order in 1,000
Each query is run once to warm up, then --rounds times. Then classification throughput
(hotline.triage.classifier trained on ../shared/data/tipdm, --classify-messages raw messages
classified one at a time: messages/s, ms and CPU ms per message). The load average is
recorded (the machine is shared). The last line is one JSON object.
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
    p.add_argument("--seed-orders", type=int, default=50_000,
                   help="orders written by the bulk loader; the rest are in-database copies of "
                        "them (bench/order_copies.py); 0: bulk-load every order")
    p.add_argument("--classify-messages", type=int, default=2000,
                   help="raw messages classified one at a time (0: skip)")
    p.add_argument("--load-only", action="store_true",
                   help="load and index, then stop (a later run measures on the same data)")
    return p.parse_args(argv)


def setup(args: argparse.Namespace) -> None:
    url = args.database_url
    if url is None:
        if args.vendor == "sqlite":
            (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{ROOT / 'var' / 'bench' / 'search.sqlite3'}"
        else:
            url = DEFAULT_PG_URL
    from bench.dbsetup import migrated_django

    migrated_django(url)


def copy_orders(target: int) -> dict[str, Any]:
    """Top up to ``target`` orders with in-database copies of the indexed seed."""
    from bench import order_copies
    from hotline.orders.models import Order

    if Order.objects.count() >= target:
        return {}
    log(f"copying the seed up to {target} orders")
    started = time.perf_counter()
    added = order_copies.copy_seed(
        target, progress=lambda n, s: log(f"  {n} orders copied in {s:.0f} s"))
    seconds = time.perf_counter() - started
    return {"orders_copied_now": added, "copy_seconds": round(seconds, 1),
            "copy_orders_per_s": round(added / seconds) if seconds else None,
            "orders": Order.objects.count()}


def load_orders(target: int, batch: int) -> dict[str, Any]:
    from django.db import connection

    from bench.intake import is_superuser
    from hotline.demo import bulk
    from hotline.orders.models import Order

    bulk.ensure_minimal_directory()
    existing = Order.objects.count()
    missing = max(0, target - existing)
    out: dict[str, Any] = {"orders_loaded_now": missing}
    if missing:
        # As a PostgreSQL superuser the preload skips the foreign-key checks (about half the
        # cost), like bench/intake.py: the loader only writes references it just read.
        trusted = connection.vendor == "postgresql" and is_superuser()
        log(f"loading {missing} orders" + (" (no reference checks)" if trusted else ""))
        started = time.perf_counter()
        bulk.load_orders(missing, batch_size=batch, check_references=not trusted,
                         progress=lambda n, s: log(f"  {n} orders in {s:.0f} s"))
        seconds = time.perf_counter() - started
        log(f"loaded in {seconds:.0f} s")
        out.update(load_seconds=round(seconds, 1), load_orders_per_s=round(missing / seconds))
    out["orders"] = Order.objects.count()
    return out


_TOKENS: dict[str, list[str]] = {}


def _tokens(text: str) -> list[str]:
    """index_tokens, remembered: the bulk loader's texts come from a few templates, so
    segmenting each distinct text once makes indexing a million orders minutes, not an hour
    (the index rows written are the same)."""
    from hotline.core import segmentation

    found = _TOKENS.get(text)
    if found is None:
        if len(_TOKENS) > 200_000:
            _TOKENS.clear()
        found = _TOKENS[text] = segmentation.index_tokens(text)
    return found


def _segment(rows: list[tuple[int, str, str]]) -> list[tuple[int, tuple[list[str], list[str]]]]:
    return [(pk, (_tokens(t), _tokens(x))) for pk, t, x in rows]


def index_orders(procs: int, batch: int) -> dict[str, Any]:
    """index_new_orders, with the segmentation spread over processes (the index writes stay in
    this process, like the production catch-up)."""
    from django.db import connections, transaction

    from hotline.core import segmentation
    from hotline.orders.models import Order
    from hotline.orders.search import ORDER_INDEX
    from hotline.search.backends import backend

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

    from hotline.demo import knowledge_entries
    from hotline.demo.knowledge import load_demo_knowledge
    from hotline.directory.models import Category, District, Unit, UnitKind
    from hotline.knowledge import indexing
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
        bodies = [e[4] for e in knowledge_entries.ENTRIES]
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
    from hotline.knowledge.indexing import ENTRY_INDEX
    from hotline.search.backends import backend

    published = Entry.objects.filter(published__isnull=False).count()
    if missing <= 0 and len(backend().ids_between(ENTRY_INDEX, 0, 2**62)) == published:
        return {"entries": published}
    started = time.perf_counter()
    indexed = indexing.rebuild_entry_index()
    return {"entries": indexed, "entry_index_seconds": round(time.perf_counter() - started, 1)}


# Rare words planted into a few existing orders (the synthetic templates never use them), so
# that "few matches" is measured as well as "many" (the templates' words) and "none": the
# rare case is where walking the orders newest first without the index costs the most.
PLANTED = (
    # word, how many orders, placed among the oldest / spread over all / among the newest
    ("电梯困人", 40, "spread"),
    ("燃气泄漏", 3, "oldest"),
    ("拖欠工资", 300, "newest"),
)


def plant_rare_words() -> dict[str, Any]:
    from hotline.orders import search as order_search
    from hotline.orders.models import Order

    low = Order.objects.order_by("pk").values_list("pk", flat=True).first()
    high = Order.objects.order_by("-pk").values_list("pk", flat=True).first()
    if low is None or high is None:
        return {}
    planted = 0
    span = high - low + 1
    for word, count, where in PLANTED:
        if where == "oldest":
            ids = [low + 7 * i for i in range(count)]
        elif where == "newest":
            ids = [high - 1 - (span // 10) * i // count for i in range(count)]
        else:
            ids = [low + 11 + span * i // count for i in range(count)]
        orders = Order.objects.filter(pk__in=ids)
        missing = [pk for pk, title in orders.values_list("pk", "title") if word not in title]
        if not missing:
            continue
        for order in Order.objects.filter(pk__in=missing).only("pk", "title"):
            Order.objects.filter(pk=order.pk).update(
                title=f"{word}{order.title}", text=f"市民反映{word}，请尽快处理。")
        order_search.index_orders(Order.objects.filter(pk__in=missing))
        planted += len(missing)
    return {"orders_planted_now": planted}


def classification(messages: int) -> dict[str, Any]:
    """Classification throughput (hotline.triage.classifier): trained on the shared segmented
    messages, then asked about raw messages one at a time (jieba included), as the order form
    does; synthetic order texts when the shared data is missing."""
    import csv

    from hotline.triage.classifier import CategoryClassifier

    data = ROOT.parent / "shared" / "data" / "tipdm"
    train_x: list[Any]
    rows: list[Any]
    csv.field_size_limit(sys.maxsize)
    if (data / "train_segmented.csv").exists() and (data / "messages_likes.csv").exists():
        source = "tipdm"
        with (data / "train_segmented.csv").open(encoding="utf-8-sig", newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if r["label"]]
        train_x, train_y = [r["tokens"].split() for r in rows], [r["label"] for r in rows]
        with (data / "messages_likes.csv").open(encoding="utf-8-sig", newline="") as handle:
            texts = [f"{r['留言主题']} {r['留言详情']}" for r in csv.DictReader(handle)]
    else:
        from hotline.orders.models import Order

        source = "synthetic"
        rows = list(Order.objects.order_by("pk").values_list("title", "text", "category__name")
                    [:2 * messages + 2000])
        train_x = [f"{t} {x}" for t, x, _c in rows[:2000]]
        train_y = [c or "" for _t, _x, c in rows[:2000]]
        texts = [f"{t} {x}" for t, x, _c in rows[2000:]]
    texts = texts[:messages]
    if not texts:
        return {}
    log(f"classification: training on {len(train_x)} {source} messages")
    started = time.perf_counter()
    model = CategoryClassifier().fit(train_x, train_y)
    train_seconds = time.perf_counter() - started
    model.predict_top(texts[0])  # warm-up (jieba's dictionary)
    samples = []
    wall, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        started = time.perf_counter()
        model.predict_top(text, k=3)
        samples.append((time.perf_counter() - started) * 1000)
    seconds = time.perf_counter() - wall
    cpu_seconds = time.process_time() - cpu
    stats = _stats(samples)
    return {"classify_data": source, "classify_train_messages": len(train_x),
            "classify_train_s": round(train_seconds, 1), "classify_messages": len(texts),
            "classify_messages_per_s": round(len(texts) / seconds, 1),
            "classify_ms_per_message": round(seconds * 1000 / len(texts), 3),
            # CPU time tells what one core does when the shared machine is busy.
            "classify_cpu_ms_per_message": round(cpu_seconds * 1000 / len(texts), 3),
            "classify_p50_ms": stats["p50"], "classify_p95_ms": stats["p95"],
            "classify_mean_chars": round(sum(map(len, texts)) / len(texts))}


def _stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 2), "p95": round(p95, 2),
            "mean": round(statistics.fmean(ordered), 2), "n": len(ordered)}


NARROW_EVERY = 1000
# A sub-centre: its district holds one order in SUBCENTRE_DISTRICT_EVERY, and a street office
# under it co-handles one in SUBCENTRE_STREET_EVERY (the sub-centre sees both).
SUBCENTRE_DISTRICT_EVERY = 20
SUBCENTRE_STREET_EVERY = 500


def _assign_every(unit: Any, every: int, remainder: int) -> int:
    """Make ``unit`` co-handler of the orders whose id is ``remainder`` modulo ``every``, above
    the highest it already has (a later run that added orders tops it up)."""
    from django.db.models import F, Max

    from hotline.orders.models import Assignment, Order

    # The highest over the unit's own rows (its index): "ORDER BY order_id DESC LIMIT 1", and
    # a plain max() that PostgreSQL turns into it, walk the order_id index backwards through
    # every assignment when the unit has none yet (a minute and more at 10 M orders); + 0
    # keeps it an aggregate.
    done = Assignment.objects.filter(unit=unit).aggregate(m=Max(F("order_id") + 0))["m"] or 0
    rows = (Order.objects.filter(pk__gt=done).annotate(k=F("pk") % every).filter(k=remainder)
            .values_list("pk", "created_at"))
    Assignment.objects.bulk_create(
        [Assignment(order_id=pk, unit=unit, role=Assignment.Role.CO, active=True,
                    assigned_at=created) for pk, created in rows.iterator()], batch_size=5000)
    return Assignment.objects.filter(unit=unit).count()


def narrow_scope() -> dict[str, Any]:
    """A street office holding one order in NARROW_EVERY (co-handler): a scope where the
    matches of a common word are mostly invisible, so the visible orders lead the search.
    And a sub-centre (its district's orders and its street's; see SUBCENTRE_DISTRICT_EVERY)."""
    from django.db.models import F

    from hotline.directory.models import District, Unit, UnitKind
    from hotline.orders.models import Order

    centre = Unit.objects.filter(kind=UnitKind.CENTRE).order_by("pk").first()
    unit, _ = Unit.objects.get_or_create(code="bench-narrow", defaults={
        "name": "基准测试街道", "kind": UnitKind.STREET, "parent": centre})
    district, _ = District.objects.get_or_create(code="bench-sub-district",
                                                 defaults={"name": "基准测试区"})
    subcentre, _ = Unit.objects.get_or_create(code="bench-subcentre", defaults={
        "name": "基准测试分中心", "kind": UnitKind.SUBCENTRE, "parent": centre,
        "district": district})
    street, _ = Unit.objects.get_or_create(code="bench-sub-street", defaults={
        "name": "基准测试分中心街道", "kind": UnitKind.STREET, "parent": subcentre,
        "district": district})
    moved = (Order.objects.annotate(k=F("pk") % SUBCENTRE_DISTRICT_EVERY).filter(k=1)
             .exclude(district=district).update(district=district))
    return {"narrow_scope_orders": _assign_every(unit, NARROW_EVERY, 0),
            "subcentre_street_orders": _assign_every(street, SUBCENTRE_STREET_EVERY, 3),
            "subcentre_district_orders_moved_now": moved}


def users() -> tuple[Any, Any, Any, Any]:
    from hotline.core.roles import Role
    from hotline.directory.models import Unit, UnitKind, User
    from hotline.orders.models import Assignment

    centre = Unit.objects.filter(kind=UnitKind.CENTRE).order_by("pk").first()
    agent, _ = User.objects.get_or_create(username="bench_search_agent",
                                          defaults={"role": Role.AGENT, "unit": centre})
    first = Assignment.objects.values("unit_id").order_by("unit_id").first()
    busiest = first["unit_id"] if first else None
    unit = (Unit.objects.filter(pk=busiest).first() if busiest is not None else None) or \
        Unit.objects.filter(kind=UnitKind.DEPARTMENT).first()
    handler, _ = User.objects.get_or_create(username="bench_search_handler",
                                            defaults={"role": Role.DEPT_HANDLER, "unit": unit})
    narrow, _ = User.objects.get_or_create(username="bench_search_street", defaults={
        "role": Role.DEPT_HANDLER, "unit": Unit.objects.get(code="bench-narrow")})
    # Sub-centre staff are agents whose unit is the sub-centre (not the city centre).
    sub, _ = User.objects.get_or_create(username="bench_search_subcentre", defaults={
        "role": Role.AGENT, "unit": Unit.objects.get(code="bench-subcentre")})
    return agent, handler, narrow, sub


def measure(rounds: int) -> dict[str, Any]:
    from django.db import connection

    from hotline.knowledge.search import search_entries, suggest_entries
    from hotline.orders.search import search_orders

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    agent, handler, narrow, sub = users()
    cases: dict[str, list[Any]] = {
        "knowledge": [(lambda q=q: search_entries(agent, q, limit=20)) for q in QUERIES],
        "suggest": [(lambda t=t: suggest_entries(agent, t, limit=5)) for t in TYPED],
        "orders_centre": [(lambda q=q: search_orders(agent, q, limit=20)) for q in QUERIES],
        "orders_subcentre": [(lambda q=q: search_orders(sub, q, limit=20)) for q in QUERIES],
        "orders_department": [(lambda q=q: search_orders(handler, q, limit=20)) for q in QUERIES],
        "orders_street": [(lambda q=q: search_orders(narrow, q, limit=20)) for q in QUERIES],
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
    seed = min(args.orders, args.seed_orders) if args.seed_orders > 0 else args.orders
    out.update(load_orders(seed, args.batch))
    out.update(index_orders(args.procs, args.batch))
    out.update(copy_orders(args.orders))
    late = index_orders(args.procs, args.batch)  # nothing, unless orders came in meanwhile
    if late.get("orders_indexed_now"):
        out["orders_indexed_after_copies"] = late["orders_indexed_now"]
    out.update(load_entries(args.entries))
    out.update(plant_rare_words())
    out.update(narrow_scope())
    if args.load_only:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    log("measuring")
    out["load_avg_1m_at_measure"] = round(os.getloadavg()[0], 2)
    out.update(measure(args.rounds))
    failed = False
    if args.classify_messages > 0:
        try:
            out.update(classification(args.classify_messages))
        except Exception as error:  # the search figures are still worth printing
            log(f"classification failed: {error!r}")
            out["classify_error"] = repr(error)
            failed = True
    out["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
