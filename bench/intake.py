"""Intake benchmark: new work orders per second through the REST API on PostgreSQL.

    .venv/bin/python bench/intake.py      # defaults: 1,000,000 preloaded, 32 clients, 30 s + 30 s
    .venv/bin/python bench/intake.py --preload 20000 --duration 10 --sustained-duration 10

What it does (see bench/README.md): creates and migrates the database if needed, preloads orders
with the bulk loader until the database holds ``--preload`` of them (above ``--preload-seed``,
in-database copies of complete bulk-loaded orders: bench/order_copies.py), starts the ASGI app under
uvicorn worker processes with production settings, drives ``POST /api/v1/orders`` from
``--clients`` concurrent asyncio clients (each request with its own Idempotency-Key) in two
phases: a closed loop (back to back: the maximum throughput, ``orders_per_s``, ``p99_ms``) and an
open loop at ``--rate`` (SPEC §8: 200 per second, latency from each request's scheduled start:
``sustained_orders_per_s``, ``sustained_p99_ms``), retries a
sample of requests with the same keys, checks that nothing was duplicated or lost, then measures
the ceiling (the same number of orders written with the bulk loader's COPY). The last line of
output is one JSON object; exit status 1 only when something went wrong (request errors,
duplicates, lost orders, a crash), never for a missed target.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hotline_bench"


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S", time.gmtime())
    print(f"[intake {stamp}Z] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    p.add_argument("--preload", type=int, default=1_000_000,
                   help="make sure the database holds at least this many orders first")
    p.add_argument("--preload-procs", type=int, default=2,
                   help="bulk loader processes running side by side for the preload")
    p.add_argument("--preload-seed", type=int, default=1_000_000,
                   help="orders the bulk loader writes; above them the preload copies them "
                        "complete inside the database (bench/order_copies.py); 0: bulk-load all")
    p.add_argument("--preload-only", action="store_true",
                   help="preload, then stop (a later run measures on the same data)")
    p.add_argument("--batch", type=int, default=50_000, help="orders per COPY transaction")
    p.add_argument("--clients", type=int, default=32, help="concurrent API clients")
    p.add_argument("--duration", type=float, default=30.0,
                   help="seconds of the closed-loop phase (every client sends back to back: "
                        "the maximum throughput); 0 skips it")
    p.add_argument("--count", type=int, default=0,
                   help="stop the closed-loop phase after this many requests instead of after "
                        "--duration")
    p.add_argument("--rate", type=float, default=200.0,
                   help="the open-loop phase: start this many requests per second (SPEC §8: "
                        "200) on the same --clients connections, latency counted from each "
                        "request's scheduled start; 0 skips it")
    p.add_argument("--sustained-duration", type=float, default=30.0,
                   help="seconds of the open-loop phase")
    p.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--retry-sample", type=int, default=500,
                   help="requests sent again with the same Idempotency-Key")
    p.add_argument("--timeout", type=float, default=30.0, help="per-request timeout, seconds")
    return p.parse_args(argv)


# --- database ------------------------------------------------------------------------------

def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            log(f"creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def is_superuser() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def preload(target: int, procs: int, batch: int, env: dict[str, str],
            seed: int = 0) -> dict[str, Any]:
    """Top the database up to ``target`` orders with parallel bulk_load_orders processes; above
    ``seed`` orders (when > 0) with complete in-database copies of them."""
    from django.db import connection

    from hotline.orders.models import Order

    existing = Order.objects.count()
    result: dict[str, Any] = {"existing_orders": existing,
                              "preload_added_orders": max(0, target - existing)}
    if existing >= target:
        log(f"{existing} orders already present: no preload")
        return result
    bulk_target = min(target, seed) if seed > 0 else target
    if existing < bulk_target:
        result.update(_bulk_preload(bulk_target - existing, procs, batch, env))
    if Order.objects.count() < target:
        result.update(_copy_preload(target))
    log("vacuuming and analysing")
    with connection.cursor() as cursor:
        # VACUUM too: a live database's autovacuum would have set the visibility map and
        # the free space map by then (this machine's server runs with autovacuum off).
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")
        if is_superuser():
            cursor.execute("CHECKPOINT")  # so a checkpoint does not land in the measurement
    return result


def _copy_preload(target: int) -> dict[str, Any]:
    """Complete copies of the bulk-loaded orders up to ``target`` (bench/order_copies.py)."""
    from bench import order_copies

    log(f"copying the bulk-loaded orders (complete: contacts, history, keys) up to {target}")
    started = time.perf_counter()
    added = order_copies.copy_seed(
        target, complete=True,
        progress=lambda n, s: log(f"  {n} orders copied in {s:.0f} s ({n / s:.0f}/s)"))
    seconds = time.perf_counter() - started
    return {"preload_copied_orders": added, "preload_copy_seconds": round(seconds, 1),
            "preload_copy_orders_per_s": round(added / seconds) if seconds else None}


def _bulk_preload(missing: int, procs: int, batch: int, env: dict[str, str]) -> dict[str, Any]:
    """``missing`` more orders from parallel bulk_load_orders processes."""
    result: dict[str, Any] = {}
    procs = max(1, min(procs, missing // 1000 or 1))
    trusted = is_superuser()
    log(f"preloading {missing} orders with {procs} loader process(es)"
        f"{' without reference checks' if trusted else ''}")
    started = time.perf_counter()
    children = []
    share, extra = divmod(missing, procs)
    for i in range(procs):
        count = share + (1 if i < extra else 0)
        cmd = [sys.executable, str(ROOT / "manage.py"), "bulk_load_orders", str(count),
               "--batch", str(batch)]
        if trusted:
            cmd.append("--no-reference-checks")
        children.append(subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                         text=True, start_new_session=True))
    rows = 0
    try:
        for child in children:
            out, _ = child.communicate()
            if child.returncode != 0:
                raise RuntimeError(f"bulk loader failed with status {child.returncode}")
            found = re.search(r"loaded (\d+) orders \((\d+) rows\)", out)
            if not found:
                raise RuntimeError(f"unexpected loader output: {out!r}")
            rows += int(found.group(2))
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
                child.wait(10)
    seconds = time.perf_counter() - started
    log(f"preloaded {missing} orders ({rows} rows) in {seconds:.1f} s")
    result.update(
        preload_seconds=round(seconds, 1),
        preload_orders_per_s=round(missing / seconds),
        preload_rows_per_s=round(rows / seconds),
        preload_procs=procs,
        preload_reference_checks=not trusted,
    )
    return result


@dataclass
class Target:
    token: str
    user_id: int
    district: str
    category: str
    order_type: str


def prepare_caller() -> Target:
    from hotline.api.tokens import do_issue_token
    from hotline.core.roles import Role
    from hotline.directory.models import Category, District, Unit, UnitKind, User

    centre = Unit.objects.filter(kind=UnitKind.CENTRE).order_by("pk").first()
    user, _ = User.objects.get_or_create(
        username="bench-intake-agent",
        defaults={"role": Role.AGENT, "unit": centre, "display_name": "压测坐席"},
    )
    _, secret = do_issue_token(user, "intake benchmark")
    district = District.objects.order_by("pk").first()
    category = None
    for candidate in Category.objects.filter(active=True, children__isnull=True).order_by("pk"):
        if "complaint" in candidate.accepted_types:
            category = candidate
            break
    if district is None or category is None:
        raise RuntimeError("no district or category to file orders under")
    return Target(secret, user.pk, district.code, category.code, "complaint")


# --- server --------------------------------------------------------------------------------

def start_server(args: argparse.Namespace, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", "hotline.asgi:application", "--host", "127.0.0.1",
           "--port", str(args.port), "--workers", str(args.workers), "--no-access-log",
           "--log-level", "warning"]
    log(f"starting {' '.join(cmd[2:])}")
    # A session of its own, so the whole tree (master and workers) is stopped together.
    return subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(5)


def _process_cpu(match: Any) -> dict[int, float]:
    """CPU seconds (user+system) of every live process ``match(pid, comm, pgid)`` accepts."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if match(int(entry.name), comm, int(fields[2])):
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return found


def group_cpu(pgid: int) -> dict[int, float]:
    return _process_cpu(lambda pid, comm, group: group == pgid)


def postgres_cpu() -> dict[int, float]:
    return _process_cpu(lambda pid, comm, group: comm == "postgres")


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two snapshots by the processes alive at the second one (a process that
    exited in between is missed, so this is a lower bound)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle (all processes, from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- a cheap HTTP/1.1 client -----------------------------------------------------------------
# httpx spent 3-6 ms of CPU per request here, on the cores the server needs. This client keeps
# one keep-alive connection per simulated client and does nothing but write the request bytes
# and read the status line, the headers and a Content-Length (or chunked) body.


class HttpError(Exception):
    """No answer: connection refused or reset, a malformed response, a timeout."""


class RawConnection:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def request(self, method: str, path: str, headers: dict[str, str],
                      body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._request(method, path, headers, body)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError,
                asyncio.LimitOverrunError) as exc:
            await self.close()
            raise HttpError(repr(exc)) from exc

    async def _request(self, method: str, path: str, headers: dict[str, str],
                       body: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        answer: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            answer[name.strip().lower()] = value.strip()
        if answer.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            content = b"".join(chunks)
        else:
            content = await self.reader.readexactly(int(answer.get("content-length", "0")))
        if answer.get("connection", "").lower() == "close":
            await self.close()
        return status, answer, content


async def wait_ready(base: str, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    host, port = _host_port(base)
    conn = RawConnection(host, port, timeout=2)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with status {server.returncode}")
            try:
                status, _, _ = await conn.request("GET", "/api/v1/openapi.json", {})
                if status == 200:
                    return
            except HttpError:
                pass
            await asyncio.sleep(0.3)
    finally:
        await conn.close()
    raise RuntimeError("the server did not answer within a minute")


def run_loop(main: Any) -> Any:
    """Run a coroutine on uvloop when it is installed (uvicorn[standard] brings it): the load
    generator's own CPU per request is what it takes from the server's cores."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] depends on it
        return asyncio.run(main)
    return uvloop.run(main)


def _host_port(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    return parts.hostname or "127.0.0.1", parts.port or 80


# --- load ----------------------------------------------------------------------------------

_TITLES = ["小区停水", "夜间施工噪音", "路灯不亮", "垃圾清运不及时", "占道经营", "井盖缺失"]


@dataclass
class Sent:
    key: str
    body: dict[str, Any]
    status: int  # 0: no answer (timeout, connection error)
    seconds: float
    number: str | None = None


@dataclass
class LoadResult:
    sent: list[Sent] = field(default_factory=list)
    seconds: float = 0.0


def request_body(target: Target, n: int, rng_value: int) -> dict[str, Any]:
    title = _TITLES[n % len(_TITLES)]
    return {
        "type": target.order_type, "channel": "api", "title": f"{title} #{n}",
        "text": f"市民反映{title}问题，已持续多日，请尽快处理。（压测请求 {n}）",
        # 20,000 callers: some call more than once, as on a real hotline.
        "citizen_phone": f"138{rng_value % 20_000:08d}", "citizen_name": "压测市民",
        "district": target.district, "category": target.category, "urgency": "normal",
        "address": f"测试路{n % 500}号",
    }


async def post(conn: RawConnection, target: Target, key: str, body: dict[str, Any],
               scheduled: float | None = None) -> Sent:
    payload = json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {target.token}",
               "Idempotency-Key": key}
    started = time.perf_counter() if scheduled is None else scheduled
    try:
        status, _, content = await conn.request("POST", "/api/v1/orders", headers, payload)
    except HttpError:
        return Sent(key, body, 0, time.perf_counter() - started)
    elapsed = time.perf_counter() - started
    number = None
    if status in (200, 201):
        number = json.loads(content).get("number")
    return Sent(key, body, status, elapsed, number)


async def drive(base: str, target: Target, args: argparse.Namespace, run: str, *,
                rate: float, duration: float, count: int = 0) -> LoadResult:
    """``--clients`` clients, each on its own keep-alive connection. Closed loop (``rate`` 0):
    back to back, for ``duration`` seconds or ``count`` requests. Open loop: request n starts
    at n / rate seconds (or as soon as a connection is free after that), and its latency counts
    from that scheduled start, so a server falling behind shows in the latency instead of
    slowing the generator down."""
    host, port = _host_port(base)
    result = LoadResult()
    counter = iter(range(10**12))
    stop_at = time.monotonic() + duration
    origin = time.perf_counter()

    async def one_client() -> None:
        conn = RawConnection(host, port, args.timeout)
        try:
            while True:
                n = next(counter)
                if count and n >= count:
                    return
                if not count and time.monotonic() >= stop_at:
                    return
                body = request_body(target, n, hash((run, n)) & 0xFFFFFFFF)
                scheduled = None
                if rate:
                    scheduled = origin + n / rate
                    if not count and scheduled >= origin + duration:
                        return  # the schedule ends with the phase: no sleeping past it
                    delay = scheduled - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    if not count and time.monotonic() >= stop_at:
                        return
                result.sent.append(await post(conn, target, f"{run}-{n}", body, scheduled))
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(args.clients)))
    result.seconds = time.perf_counter() - started
    return result


async def retry_sample(base: str, target: Target, args: argparse.Namespace,
                       sample: list[Sent]) -> list[Sent]:
    host, port = _host_port(base)
    pending = list(enumerate(sample))
    answers: list[Sent | None] = [None] * len(sample)

    async def one_client() -> None:
        conn = RawConnection(host, port, args.timeout)
        try:
            while pending:
                i, first = pending.pop()
                answers[i] = await post(conn, target, first.key, first.body)
        finally:
            await conn.close()

    await asyncio.gather(*(one_client() for _ in range(min(args.clients, len(sample)) or 1)))
    return [a for a in answers if a is not None]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


def check_integrity(target: Target, run: str, sent: list[Sent], retried: list[Sent],
                    started_at: Any) -> dict[str, int]:
    """Duplicates: more orders than idempotency keys for this run, or a replay answered with
    another order. Lost: a 201 whose order is not in the database. A replay that got no answer
    or an error is counted in ``retry_errors``, not as a duplicate."""
    from hotline.orders.models import IdempotencyKey, Order

    orders = Order.objects.filter(created_by_id=target.user_id, created_at__gte=started_at)
    keys = IdempotencyKey.objects.filter(user_id=target.user_id, key__startswith=f"{run}-")
    by_key = dict(keys.values_list("key", "order__number"))
    created_numbers = [s.number for s in sent if s.status == 201 and s.number]
    existing = set(Order.objects.filter(number__in=created_numbers)
                   .values_list("number", flat=True))
    first_number = {s.key: s.number for s in sent if s.number}
    answered = [r for r in retried if r.status in (200, 201)]
    replay_mismatch = sum(
        1 for r in answered if r.number != (first_number.get(r.key) or by_key.get(r.key))
    )
    order_count = orders.count()
    return {
        "orders_in_db": order_count,
        "keys_in_db": len(by_key),
        "duplicates": max(0, order_count - len(by_key)) + replay_mismatch,
        "lost": len(created_numbers) - len(existing),
        "replays_200": sum(1 for r in answered if r.status == 200),
        "retry_errors": len(retried) - len(answered),
    }


def ceiling(count: int, batch: int) -> dict[str, Any]:
    """The same number of orders through the bulk loader's COPY path, reference checks on."""
    from hotline.demo.bulk import load_orders

    load_orders(100, batch_size=batch)  # warm-up: first-call costs are not the ceiling
    stats = load_orders(count, batch_size=batch)
    return {"copy_orders": stats.orders, "copy_orders_per_s": round(stats.orders_per_s),
            "copy_rows_per_s": round(stats.rows_per_s)}


# --- main ----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if urlsplit(args.database_url).scheme not in ("postgres", "postgresql"):
        print("the intake benchmark runs on PostgreSQL (--database-url postgres://...)",
              file=sys.stderr)
        return 2
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="hotline.settings",
        DATABASE_URL=args.database_url,
        HOTLINE_DEBUG="0",
        # A secret from the environment when given, otherwise a fresh one for this run.
        HOTLINE_SECRET_KEY=os.environ.get("HOTLINE_SECRET_KEY") or secrets.token_urlsafe(50),
        HOTLINE_DB_CONN_MAX_AGE=os.environ.get("HOTLINE_DB_CONN_MAX_AGE", "600"),
        # A pool per worker process: without it, persistent connections under ASGI pile up (one
        # per request thread) until PostgreSQL refuses clients. HOTLINE_DB_POOL=0 to compare.
        HOTLINE_DB_POOL=os.environ.get("HOTLINE_DB_POOL", "8"),
        HOTLINE_LOG_LEVEL=os.environ.get("HOTLINE_LOG_LEVEL", "WARNING"),
    )
    env.pop("HOTLINE_ALLOW_DEV_SECRET", None)
    ensure_database(args.database_url)
    setup_django(env)

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from hotline.demo.bulk import ensure_minimal_directory

    log("migrating")
    call_command("migrate", verbosity=0)
    ensure_minimal_directory()
    report: dict[str, Any] = preload(args.preload, args.preload_procs, args.batch, env,
                                     args.preload_seed)
    if args.preload_only:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    target = prepare_caller()
    connection.close()  # the server gets the database to itself while measured

    run = f"bench-{uuid.uuid4().hex[:12]}"
    base = f"http://127.0.0.1:{args.port}"
    server = start_server(args, env)
    phases: list[tuple[str, Phase]] = []
    try:
        run_loop(wait_ready(base, server))
        started_at = timezone.now()
        load_average = os.getloadavg()[0]
        if args.duration > 0 or args.count:
            phases.append(("", measure(base, target, args, f"{run}-c", server, rate=0.0,
                                       duration=args.duration, count=args.count)))
        if args.rate > 0 and args.sustained_duration > 0:
            time.sleep(1)  # the closed loop's last answers are out; the schedule starts idle
            phases.append(("sustained_", measure(base, target, args, f"{run}-o", server,
                                                 rate=args.rate,
                                                 duration=args.sustained_duration)))
        sent = [s for _, phase in phases for s in phase.load.sent]
        # The retried keys come from every phase, in equal shares.
        share = args.retry_sample // max(1, len(phases))
        sample = [s for _, phase in phases for s in phase.created[:share]]
        log(f"retrying {len(sample)} created orders with the same keys")
        retried = run_loop(retry_sample(base, target, args, sample))
        load_average_end = os.getloadavg()[0]
    finally:
        stop_server(server)
    integrity = check_integrity(target, run, sent, retried, started_at)
    created_count = sum(len(phase.created) for _, phase in phases)
    log(f"measuring the ceiling: {created_count} orders through the bulk loader (COPY)")
    copy = ceiling(max(created_count, 1), args.batch)
    from hotline.orders.models import Order

    # The closed loop's keys (orders_per_s, p99_ms, ...) keep the names they had before the
    # open-loop phase was added; the open loop's carry the prefix "sustained_".
    closed = next((phase for prefix, phase in phases if not prefix), None)
    report.update(
        database_orders=Order.objects.count(),
        clients=args.clients,
        server_workers=args.workers,
        rate=args.rate or None,
    )
    for prefix, phase in phases:
        report.update({f"{prefix}{k}": v for k, v in phase.summary().items()})
    errors = sum(phase.errors for _, phase in phases)
    orders_per_s = closed.orders_per_s if closed else 0.0
    report.update(
        retried=len(retried),
        **integrity,
        **copy,
        api_to_copy_ratio=round(orders_per_s / copy["copy_orders_per_s"], 4)
        if copy["copy_orders_per_s"] else 0.0,
        cpus=os.cpu_count(),
        load_average_at_start=round(load_average, 2),
        load_average_at_end=round(load_average_end, 2),
    )
    print(json.dumps(report, ensure_ascii=False), flush=True)
    failed = (errors or integrity["retry_errors"] or integrity["duplicates"]
              or integrity["lost"])
    return 1 if failed else 0


@dataclass
class Phase:
    load: LoadResult
    rate: float
    server_cpu: float
    pg_cpu: float
    client_cpu: float
    machine_busy: float

    @property
    def created(self) -> list[Sent]:
        return [s for s in self.load.sent if s.status == 201]

    @property
    def errors(self) -> int:
        return sum(1 for s in self.load.sent if s.status not in (200, 201))

    @property
    def orders_per_s(self) -> float:
        return len(self.created) / self.load.seconds if self.load.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        latencies = sorted(s.seconds * 1000 for s in self.load.sent if s.status in (200, 201))
        statuses: dict[str, int] = {}
        for s in self.load.sent:
            statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
        created = len(self.created) or 1
        out: dict[str, Any] = {}
        if self.rate:
            out["rate_target_per_s"] = self.rate
        out.update(
            requests=len(self.load.sent),
            load_seconds=round(self.load.seconds, 1),
            orders_per_s=round(self.orders_per_s, 1),
            p50_ms=round(percentile(latencies, 0.50), 1),
            p95_ms=round(percentile(latencies, 0.95), 1),
            p99_ms=round(percentile(latencies, 0.99), 1),
            max_ms=round(latencies[-1], 1) if latencies else 0.0,
            errors=self.errors,
            statuses=statuses,
            server_cpu_s=round(self.server_cpu, 1),
            postgres_cpu_s=round(self.pg_cpu, 1),
            load_generator_cpu_s=round(self.client_cpu, 1),
            machine_busy_cpu_s=round(self.machine_busy, 1),
            server_cpu_ms_per_order=round(1000 * self.server_cpu / created, 2),
            postgres_cpu_ms_per_order=round(1000 * self.pg_cpu / created, 2),
            load_generator_cpu_ms_per_order=round(1000 * self.client_cpu / created, 2),
        )
        return out


def measure(base: str, target: Target, args: argparse.Namespace, run: str,
            server: subprocess.Popen[bytes], *, rate: float, duration: float,
            count: int = 0) -> Phase:
    """One load phase, with the CPU each party spent during it."""
    server_cpu_before = group_cpu(server.pid)
    pg_cpu_before = postgres_cpu()
    machine_before = machine_busy_seconds()
    own_before = os.times()
    how = f"{count} requests" if count else f"{duration:.0f} s"
    log(f"driving POST /api/v1/orders with {args.clients} clients for {how}, "
        + (f"open loop at {rate:g}/s" if rate else "closed loop"))
    load = run_loop(drive(base, target, args, run, rate=rate, duration=duration, count=count))
    own_after = os.times()
    phase = Phase(
        load=load, rate=rate,
        server_cpu=cpu_spent(server_cpu_before, group_cpu(server.pid)),
        pg_cpu=cpu_spent(pg_cpu_before, postgres_cpu()),
        client_cpu=(own_after.user - own_before.user) + (own_after.system - own_before.system),
        machine_busy=machine_busy_seconds() - machine_before,
    )
    log(f"{len(phase.created)} orders created in {load.seconds:.1f} s "
        f"({phase.orders_per_s:.1f}/s), {phase.errors} errors")
    return phase


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # runs the finally blocks that stop the server


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(main())
