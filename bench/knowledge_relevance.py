"""Knowledge relevance benchmark: do the answers an agent is offered fit real citizens'
questions? (SPEC §8: nDCG@5 >= 0.8 on a labelled set of real citizen questions.)

    .venv/bin/python bench/knowledge_relevance.py                         # SQLite, the defaults
    .venv/bin/python bench/knowledge_relevance.py --database-url postgres://postgres@127.0.0.1:5432/hl_kb_relevance

What it does: a fresh database (SQLite: var/bench/knowledge_relevance.sqlite3, rebuilt each
run; PostgreSQL: the database of --database-url, dropped and created again, so use a database
of its own), migrated, with the demo city's directory (no orders) and the demo knowledge base
loaded by the production loader (``load_demo_knowledge``: created, reviewed, published,
indexed). Then every question of bench/data/knowledge_relevance.json goes through
``suggest_entries`` as a centre agent (what the order form's panel shows, at most 5) and is
scored against its labels: nDCG@5 with graded gains (2^grade - 1, the ideal ranking from every
labelled entry), MRR (1 / rank of the first labelled entry in the 5, 0 when none), and the
share of questions with no suggestion at all. Questions labelled with no entry (nothing in the
demo knowledge base answers them) are left out of those figures; for them ``unanswerable``
gives the share that got no suggestion (the threshold keeping quiet). Figures are given for
the whole set and for its two halves: ``tune`` (the half the stop words, synonyms and
threshold were chosen on) and ``heldout`` (never looked at while tuning). Each question is
asked once to warm up, then timed --rounds times; ``p95_ms`` is per question.

The labelled questions are message subjects of ../shared/data (TipDM, Shangluo mayor's
mailbox); the file names each one's source file, id and record.
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

LABELS = ROOT / "bench" / "data" / "knowledge_relevance.json"
SQLITE_PATH = ROOT / "var" / "bench" / "knowledge_relevance.sqlite3"
TARGET_NDCG_AT_5 = 0.8
K = 5


def log(message: str) -> None:
    print(f"[knowledge_relevance {time.strftime('%H:%M:%S', time.gmtime())}Z] {message}",
          file=sys.stderr, flush=True)


def dcg(gains: list[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    gains = [float(2 ** relevant.get(slug, 0) - 1) for slug in ranked[:k]]
    ideal = sorted((float(2 ** g - 1) for g in relevant.values()), reverse=True)[:k]
    best = dcg(ideal)
    return dcg(gains) / best if best else 0.0


def reciprocal_rank(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    for i, slug in enumerate(ranked[:k]):
        if relevant.get(slug, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def fresh_database(url: str) -> None:
    if url.startswith("postgres"):
        from urllib.parse import urlsplit, urlunsplit

        import psycopg
        from psycopg import sql

        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    else:
        SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
        SQLITE_PATH.unlink(missing_ok=True)
    os.environ.update({
        "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "hotline.settings",
        "HOTLINE_ALLOW_DEV_SECRET": "1", "HOTLINE_DEBUG": "0",
    })
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def load_knowledge() -> Any:
    from hotline.core.roles import Role
    from hotline.demo.city import load_demo
    from hotline.demo.knowledge import load_demo_knowledge
    from hotline.directory.models import User

    load_demo(orders=0)
    loaded = load_demo_knowledge()
    log(f"demo knowledge base: {loaded['created']} entries published")
    agent = User.objects.filter(role=Role.AGENT, is_active=True, unit__kind="centre").first()
    if agent is None:
        agent = User.objects.filter(role=Role.AGENT, is_active=True).first()
    if agent is None:
        raise SystemExit("the demo city has no agent")
    return agent


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [r for r in rows if r["answerable"]]
    if not rows:
        return {"questions": 0}
    return {
        "questions": len(rows),
        "ndcg_at_5": round(statistics.fmean(r["ndcg"] for r in rows), 4),
        "mrr": round(statistics.fmean(r["rr"] for r in rows), 4),
        "no_suggestion_share": round(sum(1 for r in rows if not r["ranked"]) / len(rows), 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL URL of a database of the benchmark's own (default: SQLite)")
    parser.add_argument("--rounds", type=int, default=5, help="timed runs per question")
    parser.add_argument("--show", choices=("none", "misses", "all"), default="none",
                        help="print questions and what they got (stderr)")
    args = parser.parse_args()

    url = args.database_url or f"sqlite:///{SQLITE_PATH}"
    fresh_database(url)
    agent = load_knowledge()

    from django.db import connection

    from hotline.knowledge.models import Entry
    from hotline.knowledge.search import suggest_entries

    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    slug_of: dict[int, str] = {}
    for slug, title in labels["entries"].items():
        entry = Entry.objects.filter(title=title, published__isnull=False).first()
        if entry is None:
            raise SystemExit(f"labelled entry {slug!r} ({title}) is not in the demo knowledge base")
        slug_of[entry.pk] = slug

    rows: list[dict[str, Any]] = []
    timings: list[float] = []
    for question in labels["questions"]:
        text, relevant = question["question"], question["relevant"]
        hits = suggest_entries(agent, text, limit=K)  # warm-up, and the answer scored
        ranked = [slug_of.get(hit.entry.pk, f"#{hit.entry.pk}") for hit in hits]
        for _ in range(max(1, args.rounds)):
            started = time.perf_counter()
            suggest_entries(agent, text, limit=K)
            timings.append((time.perf_counter() - started) * 1000)
        row = {"split": question["split"], "ranked": ranked, "answerable": bool(relevant),
               "ndcg": ndcg_at_k(ranked, relevant), "rr": reciprocal_rank(ranked, relevant)}
        rows.append(row)
        missed = row["ndcg"] < 1 if relevant else bool(ranked)
        if args.show == "all" or (args.show == "misses" and missed):
            titles = [hit.version.title[:16] for hit in hits]
            log(f"{row['ndcg']:.2f} {question['split']:<7} {text[:30]} -> {titles} "
                f"(want {sorted(relevant, key=lambda s: -relevant[s])})")

    unanswerable = [r for r in rows if not r["answerable"]]
    timings.sort()
    result: dict[str, Any] = {
        "benchmark": "knowledge_relevance",
        "vendor": connection.vendor,
        "labelled_questions": len(rows),
        **summary(rows),
        "tune": summary([r for r in rows if r["split"] == "tune"]),
        "heldout": summary([r for r in rows if r["split"] == "heldout"]),
        "unanswerable": {
            "questions": len(unanswerable),
            "silent_share": round(sum(1 for r in unanswerable if not r["ranked"])
                                  / max(1, len(unanswerable)), 4),
        },
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 2),
        "target_ndcg_at_5": TARGET_NDCG_AT_5,
        "entries": Entry.objects.filter(published__isnull=False).count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
