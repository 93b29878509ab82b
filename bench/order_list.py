"""The staff order list on a large database: one page (keyset) and its count, for the centre
and for the department holding most orders, deep pages, a sort, filters, the searches (a whole
phone number, its last four digits, a word) and building an inline Excel export.

It reads an existing database (e.g. the one ``bench/reports.py`` loaded) and writes nothing, so
it does not migrate it either: the list's queries touch only the orders' own tables. With
``--load N`` it migrates its own database and bulk-loads it up to N orders first.

    flock /tmp/bench.lock .venv/bin/python bench/order_list.py \
        --database-url postgres://postgres@127.0.0.1:5432/hotline_bench_reports --rounds 5
    flock /tmp/bench.lock .venv/bin/python bench/order_list.py \
        --database-url sqlite:///var/bench/order_list.sqlite3 --load 20000   # a quick check

One JSON line: p50 / max milliseconds per case, the order count and the count shown.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def _setup(url: str) -> None:
    os.environ.update({
        "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "hotline.settings",
        "HOTLINE_ALLOW_DEV_SECRET": "1", "HOTLINE_DEBUG": "0",
    })
    import django

    django.setup()


def _timed(fn: Callable[[], Any], rounds: int) -> tuple[dict[str, Any], Any]:
    times, result = [], None
    for _round in range(rounds):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return {"p50_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--load", type=int, default=0,
                        help="migrate and bulk-load the database up to this many orders first")
    args = parser.parse_args()
    if args.load:
        from bench.dbsetup import migrated_django
        from bench.search import load_orders

        migrated_django(args.database_url)
        load_orders(args.load, 2000)
        from hotline.orders.search import index_new_orders

        index_new_orders()
    else:
        _setup(args.database_url)

    from django.db.models import Count
    from django.utils import timezone

    from hotline.core.roles import Role
    from hotline.directory.models import Unit, UnitKind, User
    from hotline.orders.models import Assignment, Order
    from hotline.portal.order_export import build_workbook
    from hotline.portal.order_listing import count_orders, encode_cursor, keyset_page, sort_columns
    from hotline.portal.queries import filtered_orders

    now = timezone.now()
    centre = Unit.objects.filter(kind=UnitKind.CENTRE).order_by("pk").first()
    busiest = (Assignment.objects.filter(active=True, role="lead").values("unit_id")
               .annotate(n=Count("id")).order_by("-n").first())
    agent = User(username="bench-agent", role=Role.AGENT, unit=centre, is_active=True)
    department = User(username="bench-dept", role=Role.DEPT_HANDLER, is_active=True,
                      unit=Unit.objects.get(pk=busiest["unit_id"]) if busiest else None)
    total = Order.objects.count()
    deep = Order.objects.order_by("-created_at", "-pk")[min(total - 1, total // 2)]
    deep_cursor = encode_cursor(deep, sort_columns("-created"))
    sample = Order.objects.select_related("citizen").order_by("-pk").exclude(citizen__phone="")[7]
    phone = sample.citizen.phone

    def page(user: User, filters: dict[str, Any], **kw: Any) -> Callable[[], int]:
        def run() -> int:
            qs = filtered_orders(user, filters, now)
            return len(keyset_page(qs, filters.get("sort", "-created"), 25, **kw).object_list)
        return run

    def count(user: User, filters: dict[str, Any]) -> Callable[[], Any]:
        return lambda: count_orders(filtered_orders(user, filters, now))

    cases: dict[str, Callable[[], Any]] = {
        "centre_first_page": page(agent, {}),
        "centre_count": count(agent, {}),
        "centre_deep_page": page(agent, {}, after=deep_cursor),
        "centre_sort_number": page(agent, {"sort": "number"}),
        "centre_state_closed": page(agent, {"state": "closed", "sort": "-state"}),
        "centre_state_count": count(agent, {"state": "closed"}),
        "phone_full": page(agent, {"q": phone}),
        "phone_last4": page(agent, {"q": phone[-4:], "search_in": "phone"}),
        "words": page(agent, {"q": "停水", "search_in": "text"}),
        "department_first_page": page(department, {}),
        "department_count": count(department, {}),
        "export_2000_rows": lambda: build_workbook(
            agent, filtered_orders(agent, {}, now).select_related("citizen"), "-created",
            2000)[1],
    }
    out: dict[str, Any] = {"bench": "order_list", "vendor": os.environ["DATABASE_URL"][:8],
                           "orders": total, "rounds": args.rounds}
    for name, fn in cases.items():
        figures, result = _timed(fn, args.rounds)
        if hasattr(result, "value"):
            figures["shown"] = f"{'' if result.exact else '~'}{result.value}"
        out[name] = figures
        print(f"[order_list] {name} {figures}", file=sys.stderr, flush=True)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
