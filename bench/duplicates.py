"""Duplicate detection benchmark: precision/recall of "likely duplicate" on real messages, and
the latency of a similar-orders lookup with many orders in the database.

    .venv/bin/python bench/duplicates.py                      # both parts, SQLite
    .venv/bin/python bench/duplicates.py --part quality       # precision/recall only
    .venv/bin/python bench/duplicates.py --part latency --orders 20000     # a quick latency check
    .venv/bin/python bench/duplicates.py --vendor postgresql  # hl_dup_quality / hl_dup_latency

Quality: the 7,125 TipDM city messages (../shared/data/tipdm, messages_likes.csv and
messages_replies.csv) are registered as work orders through ``do_create_order`` at their own
times (the poster's id as the caller, the A1..A9 district named in the message as the
district), indexed, and then every message that belongs to a labelled matter
(bench/duplicates_labels.py says how the labels were made) asks ``find_similar`` (the service's
own code path, limit 50) for open orders registered in the 30 days before it. A returned order
about the same matter is a true positive, any other a false positive; a same-matter order of
those 30 days that is not returned at the threshold is a false negative. Also reported: how
often a message about no labelled matter gets a "likely duplicate", and a sample of those pairs
(stderr) for a reader to judge.

Latency: a second database with --orders synthetic orders (the bulk loader, as bench/search.py)
indexed; ``find_similar`` is timed for --lookups typed requests (the TipDM texts) as a centre
agent, and ``similar_to_order`` (the order page's list) for --lookups/2 orders.

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import re
import subprocess
import sys
import time
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.duplicates_labels import matters_of  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "tipdm"
FILES = ("messages_likes.csv", "messages_replies.csv")
WINDOW_DAYS = 30
THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
LOCAL = zoneinfo.ZoneInfo("Asia/Shanghai")
_DISTRICT = re.compile(r"([A-Z]\d{1,2})[区县市]")


def log(message: str) -> None:
    print(f"[duplicates {time.strftime('%H:%M:%S', time.gmtime())}Z] {message}", file=sys.stderr,
          flush=True)


@dataclass(frozen=True)
class Message:
    id: str
    user: str
    subject: str
    text: str
    time: dt.datetime
    district: str  # "a3" or ""
    matters: frozenset[str]

    @property
    def phone(self) -> str:
        """The poster's id as a caller's number (the digits of "A00044759"; at least 5)."""
        digits = "".join(ch for ch in self.user if ch.isdigit())
        return digits.rjust(5, "0") if digits else ""


def _time(value: str) -> dt.datetime:
    value = value.strip()
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, fmt).replace(tzinfo=LOCAL)
        except ValueError:
            continue
    raise ValueError(f"unreadable time {value!r}")


def read_messages(data: Path = DATA) -> list[Message]:
    """Both files, oldest first (ties by id)."""
    messages = []
    for name in FILES:
        with open(data / name, encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                subject = row["留言主题"].strip()
                text = re.sub(r"\s+", " ", row["留言详情"]).strip()
                found = _DISTRICT.search(subject) or _DISTRICT.search(text)
                messages.append(Message(
                    id=row["留言编号"].strip(), user=row["留言用户"].strip(), subject=subject,
                    text=text, time=_time(row["留言时间"]),
                    district=found.group(1).lower() if found else "",
                    matters=matters_of(subject, text)))
    messages.sort(key=lambda m: (m.time, m.id))
    return messages


# --- database set-up -------------------------------------------------------------------------

def setup_django(url: str) -> None:
    from bench.dbsetup import migrated_django

    migrated_django(url)


def bench_agent() -> Any:
    from hotline.core.roles import Role
    from hotline.directory.models import Unit, UnitKind, User

    centre = Unit.objects.filter(kind=UnitKind.CENTRE).order_by("pk").first()
    if centre is None:
        centre = Unit.objects.create(code="bench-centre", name="12345热线中心",
                                     kind=UnitKind.CENTRE)
    agent, _ = User.objects.get_or_create(username="bench_dup_agent",
                                          defaults={"role": Role.AGENT, "unit": centre})
    return agent


def load_messages(messages: list[Message], agent: Any) -> dict[str, int]:
    """Register each message once as an order at its own time; message id -> order id."""
    from hotline.directory.models import District
    from hotline.orders import search as order_search
    from hotline.orders.models import Contact
    from hotline.orders.services import NewOrder, do_create_order

    for code in sorted({m.district for m in messages if m.district}):
        District.objects.get_or_create(code=code, defaults={"name": code.upper() + "区"})
    known = dict(Contact.objects.filter(external_id__startswith="tipdm:")
                 .values_list("external_id", "orders__id"))
    missing = [m for m in messages if f"tipdm:{m.id}" not in known]
    if missing:
        log(f"registering {len(missing)} messages as orders")
        started = time.perf_counter()
        for i, m in enumerate(missing, 1):
            order, _ = do_create_order(agent, NewOrder(
                type="complaint", channel="web", title=(m.subject or m.text[:30])[:200],
                text=m.text or m.subject, citizen_phone=m.phone, district=m.district,
                external_id=f"tipdm:{m.id}"), now=m.time)
            known[f"tipdm:{m.id}"] = order.pk
            if i % 2000 == 0:
                log(f"  {i} registered, {i / (time.perf_counter() - started):.0f}/s")
    log("indexing")
    order_search.index_new_orders()
    return {m.id: known[f"tipdm:{m.id}"] for m in messages}


# --- quality ---------------------------------------------------------------------------------

def _prf(tp: int, predicted: int, positives: int) -> dict[str, float]:
    precision = tp / predicted if predicted else 1.0
    recall = tp / positives if positives else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def evaluate(messages: list[Message], order_ids: dict[str, int], agent: Any, *,
             unlabelled_queries: int = 300, seed: int = 0,
             sample_out: list[tuple[float, Message, Message]] | None = None) -> dict[str, Any]:
    """Ask as of each labelled message; count pairs against the labels (see module doc)."""
    from hotline.triage import duplicates, similar

    by_order = {pk: m for m, pk in ((m, order_ids[m.id]) for m in messages)}
    window = dt.timedelta(days=WINDOW_DAYS)
    labelled = [m for m in messages if m.matters]
    unlabelled = [m for m in messages if not m.matters]
    rng = random.Random(seed)
    probes = rng.sample(unlabelled, min(unlabelled_queries, len(unlabelled)))
    scored: list[tuple[float, bool]] = []  # (score, same matter) of every returned pair
    # The two largest matters make most of the positive pairs: also counted without them.
    sizes: dict[str, int] = {}
    for m in labelled:
        for name in m.matters:
            sizes[name] = sizes.get(name, 0) + 1
    largest = set(sorted(sizes, key=lambda n: -sizes[n])[:2])
    small_scored: list[tuple[float, bool]] = []
    small_positives = 0
    positives = 0
    top10_hits = 0
    asked = found_one = 0  # labelled messages with a same-matter order before them; found
    flagged_unlabelled = 0
    lookups_ms: list[float] = []
    for query in [*labelled, *probes]:
        earlier = [m for m in messages
                   if query.time - window <= m.time < query.time and m.id != query.id]
        same = {m.id for m in earlier if m.matters & query.matters}
        request = duplicates.Request(text=query.text or query.subject, title=query.subject,
                                     district=query.district, created_at=query.time,
                                     phone=query.phone)
        started = time.perf_counter()
        hits = similar.find_similar(agent, request, limit=50, exclude={order_ids[query.id]},
                                    now=query.time, until=query.time, min_score=0.2)
        lookups_ms.append((time.perf_counter() - started) * 1000)
        found = [(h.score, by_order[h.order.pk]) for h in hits if h.order.pk in by_order]
        if query.matters:
            if same:
                asked += 1
                found_one += any(m.id in same and score >= duplicates.DUPLICATE_THRESHOLD
                                 for score, m in found[:10])
            positives += len(same)
            scored.extend((score, m.id in same) for score, m in found)
            if not query.matters & largest:
                small_positives += len(same)
                small_scored.extend((score, m.id in same) for score, m in found)
            top10_hits += sum(1 for score, m in found[:10] if m.id in same
                              and score >= duplicates.DUPLICATE_THRESHOLD)
        else:
            dups = [(s, m) for s, m in found if s >= duplicates.DUPLICATE_THRESHOLD]
            flagged_unlabelled += bool(dups)
            if sample_out is not None:
                sample_out.extend((s, query, m) for s, m in dups[:2])
    curve = {}
    for threshold in THRESHOLDS:
        tp = sum(1 for s, ok in scored if s >= threshold and ok)
        predicted = sum(1 for s, _ok in scored if s >= threshold)
        curve[f"{threshold:.2f}"] = {**_prf(tp, predicted, positives), "predicted": predicted}
    chosen = duplicates.DUPLICATE_THRESHOLD
    tp = sum(1 for s, ok in scored if s >= chosen and ok)
    predicted = sum(1 for s, _ok in scored if s >= chosen)
    ordered = sorted(lookups_ms)
    small_tp = sum(1 for s, ok in small_scored if s >= chosen and ok)
    small_predicted = sum(1 for s, _ok in small_scored if s >= chosen)
    return {
        "labelled_messages": len(labelled), "matters": len({x for m in labelled for x in m.matters}),
        "positive_pairs": positives, "duplicate_threshold": chosen,
        "related_threshold": duplicates.RELATED_THRESHOLD,
        **_prf(tp, predicted, positives), "true_positives": tp, "predicted_pairs": predicted,
        "recall_top10": round(top10_hits / positives, 4) if positives else 1.0,
        "messages_with_earlier_duplicates": asked,
        "share_with_a_duplicate_in_top10": round(found_one / asked, 4) if asked else 1.0,
        "without_largest_two": {"matters_left_out": sorted(largest),
                                "positive_pairs": small_positives,
                                **_prf(small_tp, small_predicted, small_positives)},
        "curve": curve,
        "unlabelled_queries": len(probes),
        "unlabelled_flagged_share": round(flagged_unlabelled / len(probes), 4) if probes else 0,
        "quality_lookup_p50_ms": round(ordered[len(ordered) // 2], 2),
        "quality_lookup_p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
    }


def quality(args: argparse.Namespace) -> dict[str, Any]:
    setup_django(args.database_url or _default_url(args.vendor, "quality"))
    messages = read_messages()
    log(f"{len(messages)} messages, {sum(1 for m in messages if m.matters)} about a labelled matter")
    agent = bench_agent()
    order_ids = load_messages(messages, agent)
    log("asking as of each labelled message")
    sample: list[tuple[float, Message, Message]] = []
    out = evaluate(messages, order_ids, agent, sample_out=sample)
    log("likely duplicates found for messages about no labelled matter (a sample to read):")
    for score, query, match in random.Random(1).sample(sample, min(args.show, len(sample))):
        log(f"  {score:.2f}  {query.id} {query.subject[:40]}  ~  {match.id} {match.subject[:40]}")
    return out


# --- latency ---------------------------------------------------------------------------------

def latency(args: argparse.Namespace) -> dict[str, Any]:
    from bench import search

    setup_django(args.database_url or _default_url(args.vendor, "latency"))
    from django.db import connection

    from hotline.orders.models import Order
    from hotline.triage import duplicates, similar

    out: dict[str, Any] = {}
    out.update(search.load_orders(args.orders, 20_000))
    out.update(search.index_orders(2, 20_000))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    agent = bench_agent()
    texts = [m for m in read_messages() if m.text][: args.lookups * 3]
    rng = random.Random(3)
    typed = rng.sample(texts, min(args.lookups, len(texts)))
    districts = list(Order.objects.exclude(district=None).values_list("district__code", flat=True)
                     .distinct()[:20])
    similar.find_similar(agent, duplicates.Request(text="停水"))  # warm-up: IDF, dictionaries
    samples, found = [], 0
    for i, m in enumerate(typed):
        request = duplicates.Request(text=m.text[:500], title=m.subject,
                                     district=districts[i % len(districts)] if i % 2 else "")
        started = time.perf_counter()
        found += bool(similar.find_similar(agent, request, limit=10))
        samples.append((time.perf_counter() - started) * 1000)
    orders = list(Order.objects.filter(state__in=similar.OPEN_STATES).select_related(
        "citizen", "district").order_by("-pk")[: max(1, args.lookups // 2)])
    page_samples = []
    for order in orders:
        started = time.perf_counter()
        similar.similar_to_order(agent, order, limit=5)
        page_samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    page_samples.sort()
    out.update({
        "vendor": connection.vendor,
        "lookups": len(samples), "lookups_with_hits": found,
        "lookup_p50_ms": round(samples[len(samples) // 2], 2),
        "lookup_p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
        "order_page_p50_ms": round(page_samples[len(page_samples) // 2], 2) if page_samples else None,
        "order_page_p95_ms": round(page_samples[int(0.95 * (len(page_samples) - 1))], 2)
        if page_samples else None,
    })
    return out


def _default_url(vendor: str, part: str) -> str:
    if vendor == "postgresql":
        return f"postgres://postgres@127.0.0.1:5432/hl_dup_{part}"
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{ROOT / 'var' / 'bench' / f'duplicates_{part}.sqlite3'}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--part", choices=("both", "quality", "latency"), default="both")
    p.add_argument("--vendor", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--database-url", default=None, help="for --part quality or latency only")
    p.add_argument("--orders", type=int, default=100_000, help="orders in the latency database")
    p.add_argument("--lookups", type=int, default=200)
    p.add_argument("--show", type=int, default=30, help="unlabelled flagged pairs to print")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.part == "quality":
        print(json.dumps(quality(args), ensure_ascii=False))
        return 0
    if args.part == "latency":
        print(json.dumps(latency(args), ensure_ascii=False))
        return 0
    # Two databases, so each part runs in its own process (Django is set up once per process).
    out: dict[str, Any] = {}
    for part in ("quality", "latency"):
        command = [sys.executable, __file__, "--part", part, "--vendor", args.vendor,
                   "--orders", str(args.orders), "--lookups", str(args.lookups),
                   "--show", str(args.show)]
        result = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        out.update(json.loads(result.stdout.strip().splitlines()[-1]))
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
