"""Hot-issue benchmark: clusters and spikes on real citizens' messages, and the service's time
over a big city's month of orders.

    .venv/bin/python bench/hot_issues.py                       # both parts, defaults below
    .venv/bin/python bench/hot_issues.py --service-orders 0    # the real-data part only

Part 1, real data (``../shared/data/tipdm/messages_likes.csv``: 4,320 messages to a city's
message board with subject, text, time and like counts): segments and hashes every message
(the one-off cost an order pays when first analysed), clusters them all with the product's
``hotline.insight.clustering.cluster`` and reports the top clusters and, sliding a 7-day
window over the year with the product's 28-day baseline, the spikes the product would have
raised for each cluster (``hotline.insight.spikes.spike_of``).

Quality, two figures:
- ``matter_recall`` / ``matter_purity``: a hand-made labelled sample. Reading the subjects of
  the most frequent places, I wrote down 14 matters as place + problem rules (``MATTERS``,
  e.g. 伊景园 + 车位: "the estate sells parking spaces bundled with flats"), and checked the
  subjects each rule matches by eye. Gold = the messages whose subject matches the rule
  (recall: the share of them in the matter's best cluster); a member of that cluster counts
  as the same matter if its subject or text matches the rule (purity). Macro averages.
- ``top_liked_clustered_share``: of the 50 most-liked messages (likes say many citizens care),
  the share that land in a cluster with at least one other message. Not all of them have
  company in the data (some matters were written about once and liked by many), so 1.0 is
  not the ceiling to expect.

Part 2, the service (``--service-orders``, default 30,000 in the 30-day window plus as many
in the 28-day baseline): a SQLite database in var/bench/, orders written by the bulk loader
with titles and texts taken from the TipDM messages (subject i with the text of another
message, so that the vocabulary is real), features indexed once, then
the one view clustered as before the standing topics (``service_live_cluster_30d_ms``), one
epoch of the standing topics (``topics_epoch_s``: the worker's full clustering of the horizon),
the orders of the last 12 hours taken out of it (so each view's refresh adds them again, as
between two epochs), then ``hotline.insight.services.hot_issues`` timed (median of
``--rounds``) for a leader over the last 30, 7 and 1 days, a sub-centre over 30 days, and
district- and category-filtered views (``service_*_ms``; the target: every one under 1 s).
``top10_titles_shared_with_live`` compares the month's ten largest issues of both ways. The
last line is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotline.insight import clustering, spikes  # noqa: E402
from hotline.triage.text import segment  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "tipdm" / "messages_likes.csv"
# (name, words that must all be in the subject, at least one of these too (or none)).
MATTERS: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("伊景园滨河苑捆绑销售车位", ("伊景园",), ("车位",)),
    ("丽发新城附近搅拌站", ("丽发新城",), ("搅拌",)),
    ("58车贷案", ("58车贷",), ()),
    ("魅力之城底层商铺油烟噪音", ("魅力之城",), ("油烟", "噪音", "扰民", "商铺", "门面")),
    ("魅力之城楼板墙面开裂", ("魅力之城",), ("开裂",)),
    ("五矿万境K9县房屋问题", ("五矿万境", "K9"), ()),
    ("绿地海外滩与高铁", ("海外滩",), ("高铁",)),
    ("凉塘路旧城改造", ("凉塘",), ("改造",)),
    ("西湖街道茶场村五组拆迁规划", ("茶场村",), ()),
    ("辉煌国际城二期商铺", ("辉煌国际城",), ("商铺", "饭店", "烟道", "餐饮", "门面")),
    ("诺亚山林小区门口设医院", ("诺亚山林",), ("医院",)),
    ("月亮岛路高压线", ("月亮岛",), ("高压",)),
    ("泉星公园项目规划", ("泉星公园",), ()),
    ("润芳园临街门面油烟", ("润芳园",), ("油烟", "烧烤", "扰民")),
]
DISTRICT = re.compile(r"[A-Z]\d{1,2}[区县]")
WINDOW_DAYS = 7


def log(message: str) -> None:
    print(f"[hot_issues {time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", file=sys.stderr,
          flush=True)


def parse_time(raw: str) -> dt.datetime | None:
    """'2019/2/28 11:25:05', '2019-12-15 12:32:11', '2019/08/01 16:20' or a bare date."""
    raw = raw.strip().replace("-", "/")
    date_part, _, time_part = raw.partition(" ")
    try:
        year, month, day = (int(x) for x in date_part.split("/"))
        hms = [int(x) for x in time_part.split(":")] if time_part else []
        hms += [0] * (3 - len(hms))
        return dt.datetime(year, month, day, hms[0], hms[1], hms[2], tzinfo=dt.UTC)
    except ValueError:
        return None


def read_messages(path: Path = DATA) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        rows = []
        for r in csv.DictReader(f):
            rows.append({"id": r["留言编号"], "subject": r["留言主题"].strip(),
                         "text": " ".join(r["留言详情"].split()), "at": parse_time(r["留言时间"]),
                         "likes": int(r["点赞数"] or 0)})
    return rows


def matches(rule: tuple[str, tuple[str, ...], tuple[str, ...]], text: str) -> bool:
    _, every, some = rule
    return all(w in text for w in every) and (not some or any(w in text for w in some))


def matter_quality(messages: list[dict[str, Any]],
                   clusters: list[clustering.Cluster]) -> dict[str, Any]:
    owner = {m: k for k, c in enumerate(clusters) for m in c.members}
    per_matter: dict[str, dict[str, Any]] = {}
    for rule in MATTERS:
        gold = [i for i, m in enumerate(messages) if matches(rule, m["subject"])]
        if not gold:
            continue
        best, hits = Counter(owner[i] for i in gold if i in owner).most_common(1)[0] \
            if any(i in owner for i in gold) else (None, 0)
        if best is None:
            per_matter[rule[0]] = {"gold": len(gold), "recall": 0.0, "purity": 0.0, "size": 0}
            continue
        members = clusters[best].members
        same = sum(matches(rule, messages[i]["subject"] + messages[i]["text"]) for i in members)
        per_matter[rule[0]] = {"gold": len(gold), "size": len(members),
                               "recall": round(hits / len(gold), 3),
                               "purity": round(same / len(members), 3),
                               "label": clusters[best].label}
    recall = float(np.mean([v["recall"] for v in per_matter.values()]))
    purity = float(np.mean([v["purity"] for v in per_matter.values()]))
    return {"matters": per_matter, "matter_recall": round(recall, 3),
            "matter_purity": round(purity, 3)}


def sliding_spikes(messages: list[dict[str, Any]], clusters: list[clustering.Cluster],
                   top: int = 30) -> list[dict[str, Any]]:
    """For each of the ``top`` clusters: the first 7-day window (ending at a midnight) that the
    product's detector flags against the 28 days before it, and the strongest one."""
    found = []
    dated = [m["at"] for m in messages]
    for c in clusters[:top]:
        days = sorted(dated[i].date() for i in c.members if dated[i] is not None)
        if len(days) < spikes.DEFAULT_MIN_COUNT:
            continue
        first_day, last_day = days[0], days[-1]
        counts = Counter(days)
        best: tuple[spikes.Spike, dt.date] | None = None
        first: dt.date | None = None
        end = first_day + dt.timedelta(days=1)
        while end <= last_day + dt.timedelta(days=1):
            series = [counts.get(end - dt.timedelta(days=k), 0) for k in range(35, 0, -1)]
            spike = spikes.spike_of(c.label, sum(series[-WINDOW_DAYS:]), series[:-WINDOW_DAYS],
                                    WINDOW_DAYS)
            if spike is not None:
                first = first or end
                if best is None or spike.p_value < best[0].p_value:
                    best = (spike, end)
            end += dt.timedelta(days=1)
        if best is not None and first is not None:
            found.append({"label": c.label, "size": c.size,
                          "first_window_end": first.isoformat(),
                          "peak_window_end": best[1].isoformat(), **best[0].as_dict()})
    return found


def real_data(args: argparse.Namespace) -> dict[str, Any]:
    messages = read_messages(Path(args.data))
    log(f"{len(messages)} messages; segmenting and hashing")
    started = time.perf_counter()
    words = [(segment(m["subject"]), segment(m["text"][:clustering.TEXT_CHARS]))
             for m in messages]
    docs = [clustering.decode(clustering.encode(t, x)) for t, x in words]
    features_ms = (time.perf_counter() - started) * 1000
    log(f"features in {features_ms:.0f} ms; clustering")
    started = time.perf_counter()
    # As the service does: only the largest clusters (the ones a page shows) are named.
    clusters = clustering.cluster(
        docs, label_top=50, words_of=lambda ix: {i: words[i][0] + words[i][1] for i in ix})
    cluster_ms = (time.perf_counter() - started) * 1000
    log(f"{len(clusters)} clusters in {cluster_ms:.0f} ms")
    quality = matter_quality(messages, clusters)
    clustered = {m for c in clusters for m in c.members}
    liked = sorted(range(len(messages)), key=lambda i: -messages[i]["likes"])[:50]
    top = []
    for c in clusters[:args.top]:
        places = Counter(d for i in c.members
                         for d in set(DISTRICT.findall(messages[i]["subject"] + messages[i]["text"])))
        top.append({"label": c.label, "size": c.size,
                    "title": messages[c.representative]["subject"],
                    "likes": sum(messages[i]["likes"] for i in c.members),
                    "districts": places.most_common(2)})
    for t in top:
        log(f"  {t['size']:3d}  {t['label']}  |  {t['title']}")
    found = sliding_spikes(messages, clusters)
    for s in found:
        log(f"  spike: {s['label']} first {s['first_window_end']} peak {s['peak_window_end']} "
            f"{s['current']} vs {s['expected']} (x{s['ratio']})")
    for name, v in quality["matters"].items():
        log(f"  matter {name}: gold {v['gold']} recall {v['recall']} purity {v['purity']}")
    return {
        "messages": len(messages), "undated_messages": sum(m["at"] is None for m in messages),
        "clusters": len(clusters), "clustered_messages": len(clustered),
        "features_ms": round(features_ms, 1), "cluster_ms": round(cluster_ms, 1),
        "top_clusters": top, "spikes": found, "spiking_clusters": len(found),
        "matter_recall": quality["matter_recall"], "matter_purity": quality["matter_purity"],
        "matters_labelled": len(quality["matters"]),
        "top_liked_clustered_share": round(sum(i in clustered for i in liked) / len(liked), 3),
    }


def service(args: argparse.Namespace, messages: list[dict[str, Any]]) -> dict[str, Any]:
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    db = ROOT / "var" / "bench" / "hot_issues.sqlite3"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{db}")
    os.environ.setdefault("HOTLINE_ALLOW_DEV_SECRET", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from hotline.core.roles import Role
    from hotline.demo.bulk import ensure_minimal_directory, load_orders
    from hotline.directory.models import Category, District, Unit, UnitKind, User
    from hotline.insight import topics
    from hotline.insight.services import clustered_for_view, scoped_orders, window_for
    from hotline.insight.services import hot_issues as run
    from hotline.insight.terms import index_missing
    from hotline.insight.topic_models import TopicEpoch, TopicMember
    from hotline.orders.models import Order

    call_command("migrate", verbosity=0)
    ensure_minimal_directory()
    wanted = args.service_orders * 2  # the window and the 28-day baseline before it
    have = Order.objects.count()
    if have < wanted:
        log(f"loading {wanted - have} orders over 58 days")
        load_orders(wanted - have, span_days=58, seed=7)
        log("real titles and texts")
        n = len(messages)
        batch = []
        for k, order in enumerate(Order.objects.order_by("id").only("id").iterator()):
            order.title = messages[k % n]["subject"][:200]
            order.text = messages[(k * 7919 + 13) % n]["text"]
            batch.append(order)
            if len(batch) == 5000:
                Order.objects.bulk_update(batch, ["title", "text"])
                batch = []
        Order.objects.bulk_update(batch, ["title", "text"])
    started = time.perf_counter()
    indexed = index_missing(Order.objects.all())
    index_s = time.perf_counter() - started
    log(f"indexed {indexed} orders in {index_s:.1f} s")
    leader = User.objects.filter(role=Role.LEADER).first() or User.objects.create_user(
        "bench-leader", role=Role.LEADER, password=None)
    district = District.objects.order_by("pk").first()
    assert district is not None
    sub, _ = Unit.objects.get_or_create(code="bench-subcentre", defaults={
        "name": "示例区分中心", "kind": UnitKind.SUBCENTRE, "district": district})
    sub_agent = User.objects.filter(username="bench-sub-agent").first() or \
        User.objects.create_user("bench-sub-agent", role=Role.AGENT, unit=sub, password=None)
    category = Category.objects.filter(level=1).order_by("pk").values_list("code", flat=True)[0]
    newest = Order.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    now = (newest or timezone.now()) + dt.timedelta(seconds=1)
    # The live clustering of one view, as every view did before the standing topics.
    window = window_for(days=30, now=now)
    started = time.perf_counter()
    live = clustered_for_view(leader, scoped_orders(leader, window), window)
    live_ms = (time.perf_counter() - started) * 1000
    log(f"clustered for one view: {live_ms:.0f} ms ({live.timings_ms})")
    started = time.perf_counter()
    epoch = topics.do_cluster_epoch()
    epoch_s = time.perf_counter() - started
    log(f"epoch: {epoch.orders} orders, {epoch.topics.count()} topics in {epoch_s:.1f} s")
    # Orders arriving after the epoch: those of its last 12 hours are taken out of it, so each
    # view's refresh assigns them again (about a big city's half day).
    recent = Order.objects.filter(created_at__gte=now - dt.timedelta(hours=12))
    TopicMember.objects.filter(order__in=recent).delete()
    TopicEpoch.objects.filter(pk=epoch.pk).update(
        cut_off=now - dt.timedelta(hours=12),
        last_order_id=recent.order_by("id").values_list("id", flat=True).first() or 0)
    arrivals = recent.count()
    views: dict[str, tuple[Any, int, dict[str, str]]] = {
        "city_30d": (leader, 30, {}), "city_7d": (leader, 7, {}), "city_1d": (leader, 1, {}),
        "subcentre_30d": (sub_agent, 30, {}),
        "district_filter_30d": (leader, 30, {"district": district.code}),
        "category_filter_30d": (leader, 30, {"category": category}),
    }
    figures: dict[str, Any] = {}
    report: Any = None
    for name, (user, days, filters) in views.items():
        timings = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            report = run(user, window_for(days=days, now=now),
                         district=filters.get("district", ""),
                         category=filters.get("category", ""))
            timings.append((time.perf_counter() - started) * 1000)
        figures[f"service_{name}_ms"] = round(float(np.median(timings)), 1)
        log(f"{name}: {report.orders} orders, {len(report.issues)} issues, "
            f"runs {[round(t) for t in timings]} ms; last {report.timings_ms}")
    assert report is not None
    city = run(leader, window)
    shared = len({i.title for i in city.issues[:10]} & {i.title for i in live.issues[:10]})
    return {"service_window_orders": city.orders,
            "service_baseline_orders": city.baseline_orders,
            **figures,
            "service_max_ms": max(figures.values()),
            "service_live_cluster_30d_ms": round(live_ms, 1),
            "topics_epoch_s": round(epoch_s, 1), "topics_epoch_orders": epoch.orders,
            "topics_arrivals_per_view": arrivals,
            "top10_titles_shared_with_live": shared,
            "index_orders_per_s": round(indexed / index_s, 1) if indexed else None}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=str(DATA))
    p.add_argument("--top", type=int, default=15, help="top clusters to report")
    p.add_argument("--service-orders", type=int, default=30_000,
                   help="orders in the 30-day window for the service timing (0: skip)")
    p.add_argument("--rounds", type=int, default=3, help="warm service runs (median reported)")
    args = p.parse_args(argv)
    result = real_data(args)
    if args.service_orders:
        result.update(service(args, read_messages(Path(args.data))))
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
