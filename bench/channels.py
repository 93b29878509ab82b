"""Inbound channels into contacts, on PostgreSQL: messages per second and p99 for email over
SMTP (the product's receiver), SMS through the signed HTTP webhook, and Open311 ``POST
requests.json`` (both over HTTP to uvicorn with production settings). See bench/README.md.

Each channel runs on its own after the other (never side by side: two cores); every message is
one new order with its contact, received-message record and kept payload, and an answer on its
channel (the mail acknowledgement written by the console backend, the SMS by the log provider).
At the end the database must hold exactly one received message per message sent: ``lost`` and
``duplicates`` count the difference. One JSON line is printed last.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import smtplib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.intake import ensure_database, log, percentile, stop_server, wait_ready  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/hotline_bench_channels"
SECRET = secrets.token_hex(16)
TEXTS = ["小区停水两天了", "夜间施工噪音扰民", "路灯不亮很久了", "垃圾清运不及时", "占道经营影响通行"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    p.add_argument("--email", type=int, default=200, help="mails to send (0 skips)")
    p.add_argument("--sms", type=int, default=500, help="SMS webhooks to send (0 skips)")
    p.add_argument("--open311", type=int, default=500, help="Open311 requests (0 skips)")
    p.add_argument("--clients", type=int, default=8, help="concurrent senders per channel")
    p.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    return p.parse_args(argv)


def received(channel: str) -> int:
    from hotline.intake.models import ReceivedMessage

    return ReceivedMessage.objects.filter(channel=channel).exclude(outcome="refused").count()


def figures(name: str, seconds: list[float], wall: float, errors: int, before: int,
            after: int, sent: int) -> dict[str, Any]:
    ok = len(seconds)
    return {f"{name}_messages_per_s": round(ok / wall, 1) if wall else 0.0,
            f"{name}_p50_ms": round(percentile(seconds, 0.50) * 1000, 1) if ok else None,
            f"{name}_p99_ms": round(percentile(seconds, 0.99) * 1000, 1) if ok else None,
            f"{name}_errors": errors,
            f"{name}_lost": max(0, sent - errors - (after - before)),
            f"{name}_duplicates": max(0, (after - before) - (sent - errors))}


# --- email ---------------------------------------------------------------------------------

def run_email(count: int, clients: int, env: dict[str, str]) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "hotline.intake.email.server"],
                              env={**env, "HOTLINE_SMTP_LISTEN": f"127.0.0.1:{port}"},
                              cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        before = received("email")
        seconds: list[float] = []
        errors = [0]
        lock = threading.Lock()
        tag = secrets.token_hex(4)

        def sender(worker: int) -> None:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
                for n in range(worker, count, clients):
                    text = TEXTS[n % len(TEXTS)]
                    raw = (f"From: citizen{n}@example.org\r\nTo: 12345@hotline.localhost\r\n"
                           f"Subject: {text}\r\nMessage-ID: <bench-{tag}-{n}@example.org>\r\n"
                           "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                           f"{text}，请尽快处理。（压测 {n}）\r\n").encode()
                    started = time.perf_counter()
                    try:
                        refused = smtp.sendmail(f"citizen{n}@example.org",
                                                ["12345@hotline.localhost"], raw)
                        ok = not refused
                    except smtplib.SMTPException:
                        ok = False
                    with lock:
                        if ok:
                            seconds.append(time.perf_counter() - started)
                        else:
                            errors[0] += 1

        started = time.perf_counter()
        threads = [threading.Thread(target=sender, args=(w,)) for w in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        return figures("email", seconds, wall, errors[0], before, received("email"), count)
    finally:
        stop_server(server)


# --- HTTP channels -------------------------------------------------------------------------

async def http_load(base: str, count: int, clients: int,
                    build: Any) -> tuple[list[float], int, float]:
    import httpx

    seconds: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while not queue.empty():
            n = queue.get_nowait()
            url, kwargs = build(n)
            started = time.perf_counter()
            try:
                response = await client.post(url, **kwargs)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                seconds.append(time.perf_counter() - started)
            else:
                errors += 1

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        return seconds, errors, time.perf_counter() - started


def sms_request(n: int) -> tuple[str, dict[str, Any]]:
    from hotline.intake.sms.webhook import sign

    body = json.dumps({"type": "inbound", "id": f"bench-{SECRET[:6]}-{n}",
                       "from": f"139{n % 100000000:08d}", "to": "12345",
                       "text": f"{TEXTS[n % len(TEXTS)]}（压测 {n}）"}, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    return "/intake/sms/webhook/", {"content": body, "headers": {
        "Content-Type": "application/json", "X-Hotline-Timestamp": stamp,
        "X-Hotline-Signature": sign(SECRET, stamp, body)}}


def open311_builder(key: str, code: str) -> Any:
    def build(n: int) -> tuple[str, dict[str, Any]]:
        form = {"api_key": key, "service_code": code, "address_string": f"东街{n % 300}号",
                "description": f"{TEXTS[n % len(TEXTS)]}（压测 {n}）",
                "email": f"app{n}@example.org", "device_id": f"dev-{n % 5000}"}
        return "/open311/v2/requests.json", {"content": urlencode(form), "headers": {
            "Content-Type": "application/x-www-form-urlencoded"}}
    return build


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="hotline.settings", DATABASE_URL=args.database_url,
               HOTLINE_DEBUG="0", HOTLINE_SECRET_KEY=secrets.token_urlsafe(50),
               HOTLINE_DB_CONN_MAX_AGE="600", HOTLINE_DB_POOL="8",
               HOTLINE_LOG_LEVEL="WARNING", HOTLINE_SMS_WEBHOOK_SECRET=SECRET,
               HOTLINE_SMS_PER_PHONE_HOUR="100000", HOTLINE_OPEN311_PER_KEY_MINUTE="1000000",
               HOTLINE_MEDIA_ROOT=os.environ.get("HOTLINE_MEDIA_ROOT",
                                                 str(ROOT / "var" / "bench-media")))
    env.pop("HOTLINE_ALLOW_DEV_SECRET", None)
    ensure_database(args.database_url)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from hotline.demo.bulk import ensure_minimal_directory
    from hotline.directory.models import Category
    from hotline.intake.open311.service import do_issue_key

    log("migrating")
    call_command("migrate", verbosity=0)
    ensure_minimal_directory()
    leaf = Category.objects.filter(active=True, children__isnull=True).order_by("code").first()
    key = do_issue_key("bench")[1]
    report: dict[str, Any] = {"clients": args.clients, "workers": args.workers}
    connection.close()
    if args.email:
        log(f"email: {args.email} mails over SMTP")
        report.update(run_email(args.email, args.clients, env))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "hotline.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(args.workers), "--no-access-log",
         "--log-level", "warning"], env=env, cwd=ROOT, start_new_session=True)
    try:
        asyncio.run(wait_ready(base, server))
        for name, count, build in (("sms", args.sms, sms_request),
                                   ("open311", args.open311,
                                    open311_builder(key, leaf.code if leaf else ""))):
            if not count:
                continue
            log(f"{name}: {count} requests over HTTP")
            before = received(name)
            connection.close()
            seconds, errors, wall = asyncio.run(http_load(base, count, args.clients, build))
            report.update(figures(name, seconds, wall, errors, before, received(name), count))
    finally:
        stop_server(server)
    print(json.dumps(report, ensure_ascii=False))
    bad = sum(v for k, v in report.items() if k.endswith(("_errors", "_lost", "_duplicates")))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
