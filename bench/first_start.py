"""The first start: ``make run`` on an empty data directory until the home page answers 200.

Target (issue 16 item 6): the first page within 120 s of ``make run`` once the packages are
installed. It starts ``make run`` from this checkout with HOTLINE_DATA_DIR set to a new
temporary directory (so a new SQLite database, secret key, static files), on free ports of its
own (HTTP, SIP, SMTP), and the virtualenv of the interpreter running it (``make`` is told that
the virtualenv is installed: nothing is installed). It then

1. polls ``GET /`` until it answers 200: ``first_page_s`` (seconds from starting ``make run``),
   with ``launcher_cpu_s``, the launcher's own CPU until then (migrations, static files, the
   demo's directory and staff);
2. reads the demo's load state (``demo_demoload``) from the database until the worker has
   finished it: ``complete_s`` (seconds from starting ``make run``), ``demo_cpu_s`` (the CPU
   seconds the demo recorded in every part, foreground and background) and ``orders``; every
   second meanwhile it asks for the home page and logs in as ``agent1`` through the login form
   (a page that writes): ``pages_while_loading`` tries, ``page_failures_while_loading`` of
   them failed;
3. stops the process tree (SIGINT, as Ctrl-C would) and removes the temporary directory.

The load average is printed with the figures: on a shared machine the seconds depend on it,
the CPU seconds much less. It exits 1 when the first page took longer than the target (or never
came, or the demo did not complete within ``--complete-timeout``, or a page failed while it
loaded).

    flock /tmp/bench.lock .venv/bin/python bench/first_start.py
"""

from __future__ import annotations

import argparse
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 120.0
DEMO_PASSWORD = "demo12345"  # the documented demo password (HOTLINE_DEMO_PASSWORD unset)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User and system CPU of one process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def launcher_pid(port: int) -> int | None:
    """The launcher ``make run`` started: the process running ``hotline.launcher`` on our port."""
    wanted = ["-m", "hotline.launcher", "--host", "127.0.0.1", "--port", str(port)]
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            argv = path.read_bytes().decode(errors="replace").split("\0")
            if argv[1:1 + len(wanted)] == wanted:
                return int(path.parent.name)
    return None


def home_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def log_in(port: int, username: str, password: str) -> bool:
    """Log in through the form (a page that writes: the session, the login record); True when
    it lands on a page past the login."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = f"http://127.0.0.1:{port}/login/"
    try:
        with opener.open(login, timeout=30) as page:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
        if token is None:
            return False
        body = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrfmiddlewaretoken": token.group(1)}).encode()
        request = urllib.request.Request(login, data=body, headers={"Referer": login})
        with opener.open(request, timeout=30) as response:
            return bool(response.status == 200 and "/login/" not in response.url)
    except (urllib.error.URLError, OSError):
        return False


def demo_state(database: Path) -> tuple[bool, float, int] | None:
    """(finished, CPU seconds, orders loaded) of the demo load; None before its table exists."""
    if not database.exists():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True,
                                                timeout=1)) as db:
            row = db.execute("SELECT finished_at IS NOT NULL, cpu_seconds, orders_done "
                             "FROM demo_demoload ORDER BY id LIMIT 1").fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else (bool(row[0]), float(row[1]), int(row[2]))


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C to the whole group (make and the launcher; the launcher stops its children)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target-s", type=float, default=TARGET_S,
                        help="the first page must come within this many seconds (%(default)s)")
    parser.add_argument("--first-page-timeout", type=float, default=600.0)
    parser.add_argument("--complete-timeout", type=float, default=1800.0,
                        help="seconds to wait for the demo to complete (%(default)s)")
    parser.add_argument("--log", type=Path, default=None,
                        help="keep make run's output in this file (default: discarded)")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="hotline-first-start-"))
    port = free_port()
    venv = Path(sys.prefix)
    env = dict(os.environ)
    for name in ("DATABASE_URL", "HOTLINE_TASKS_BACKEND", "HOTLINE_MEDIA_ROOT",
                 "HOTLINE_SECRET_KEY", "HOTLINE_SECRET_KEY_FILE", "DJANGO_SETTINGS_MODULE"):
        env.pop(name, None)
    env.pop("HOTLINE_DEMO_PASSWORD", None)
    env.pop("HOTLINE_DEMO_ORDERS", None)
    env.update(HOTLINE_DATA_DIR=str(data_dir), PYTHONPATH=str(ROOT),
               HOTLINE_SIP_BIND=f"127.0.0.1:{free_port(socket.SOCK_DGRAM)}",
               HOTLINE_SMTP_LISTEN=f"127.0.0.1:{free_port()}")
    output = open(args.log, "wb") if args.log else subprocess.DEVNULL  # noqa: SIM115
    load_start = os.getloadavg()[0]
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "-C", str(ROOT), "run", f"PORT={port}",
         f"VENV={venv}", "-o", f"{venv}/.installed"],
        env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    result: dict[str, object] = {"target_first_page_s": args.target_s}
    ok = False
    try:
        first_page = launcher_cpu = None
        launcher = None
        while time.monotonic() - started < args.first_page_timeout and process.poll() is None:
            launcher = launcher or launcher_pid(port)
            if home_answers(port):
                first_page = time.monotonic() - started
                launcher_cpu = cpu_seconds(launcher) if launcher else None
                break
            time.sleep(0.25)
        result.update(first_page_s=None if first_page is None else round(first_page, 1),
                      launcher_cpu_s=None if launcher_cpu is None else round(launcher_cpu, 1),
                      load_avg_1m_at_start=round(load_start, 2),
                      load_avg_1m_at_first_page=round(os.getloadavg()[0], 2))
        state = None
        database = data_dir / "hotline.sqlite3"
        # While the worker loads the orders, the home page and a login (it writes) must work.
        tried = failed = 0
        while (first_page is not None and process.poll() is None
               and time.monotonic() - started < args.complete_timeout):
            state = demo_state(database)
            if state is not None and state[0]:
                break
            for works in (lambda: home_answers(port),
                          lambda: log_in(port, "agent1", DEMO_PASSWORD)):
                tried += 1
                failed += not works()
            time.sleep(1.0)
        complete = time.monotonic() - started if state is not None and state[0] else None
        result.update(complete_s=None if complete is None else round(complete, 1),
                      demo_cpu_s=None if state is None else round(state[1], 1),
                      orders=None if state is None else state[2],
                      load_avg_1m_at_complete=round(os.getloadavg()[0], 2),
                      pages_while_loading=tried, page_failures_while_loading=failed)
        ok = (first_page is not None and first_page <= args.target_s and complete is not None
              and failed == 0)
    finally:
        stop(process)
        if args.log:
            output.close()  # type: ignore[union-attr]
        shutil.rmtree(data_dir, ignore_errors=True)
    result["ok"] = ok
    print(json.dumps(result), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
