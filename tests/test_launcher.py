"""The launcher as ``make run`` starts it: a real process tree on a temporary SQLite database."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 90.0
DEMO_ORDERS = 120  # enough for pages to be served while the worker plays them


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("launcher-data")


class Launched:
    def __init__(self, data_dir: Path, *extra: str, demo_orders: int | None = None) -> None:
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "HOTLINE_TASKS_BACKEND", "HOTLINE_MEDIA_ROOT")}
        env.update(DJANGO_SETTINGS_MODULE="hotline.settings", HOTLINE_DATA_DIR=str(data_dir),
                   HOTLINE_DEBUG="1", HOTLINE_SWEEP_SECONDS="1", HOTLINE_LOG_LEVEL="WARNING")
        # The voice gateway on a free SIP port, tone prompts (no espeak-ng runs in the test).
        self.sip_port = free_udp_port()
        env.update(HOTLINE_SIP_BIND=f"127.0.0.1:{self.sip_port}", HOTLINE_TTS="tone",
                   HOTLINE_RTP_PORTS=f"{self.sip_port + 2}-{self.sip_port + 11}")
        self.port = free_port()
        self.smtp_port = free_port()
        env.update(HOTLINE_SMTP_LISTEN=f"127.0.0.1:{self.smtp_port}")
        self.lines: list[str] = []
        if demo_orders is not None:
            env.update(HOTLINE_DEMO_ORDERS=str(demo_orders))
        demo = [] if demo_orders is not None else ["--no-demo"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hotline.launcher", "--host", "127.0.0.1",
             "--port", str(self.port), *demo, *extra],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"launcher exited early:\n{self.output}"
            if "the hotline is running at" in self.output:
                return
            time.sleep(0.1)
        raise AssertionError(f"launcher not ready in {START_TIMEOUT} s:\n{self.output}")

    def child_pids(self) -> dict[str, int]:
        return {name: int(pid) for name, pid in
                re.findall(r"started (\w+) \(pid (\d+)\)", self.output)}

    def wait(self, timeout: float = 30.0) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        self.reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def finished_sweeps(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "hotline.sqlite3", timeout=5) as db:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL'"
            " AND task_path = 'hotline.orders.tasks.sweep_deadlines_task'"
        ).fetchone()
    return int(count)


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_gone(pids: list[int], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(gone(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def test_serves_pages_and_stops_all_children_on_sigterm(data_dir: Path) -> None:
    launched = Launched(data_dir)
    try:
        launched.wait_until_ready()
        assert f"http://127.0.0.1:{launched.port}/" in launched.output
        pids = launched.child_pids()
        assert set(pids) == {"web", "worker", "scheduler", "voice", "smtp"}
        assert f"sip:12345@127.0.0.1:{launched.sip_port}" in launched.output
        # The SMTP receiver takes a citizen's mail into an order (250 only once it is stored).
        with smtplib.SMTP("127.0.0.1", launched.smtp_port, timeout=30) as smtp:
            refused = smtp.sendmail("zhang@example.org", ["12345@hotline.localhost"],
                                    b"From: zhang@example.org\r\nSubject: =?utf-8?b?5YGc5rC0?=\r\n"
                                    b"Message-ID: <l1@example.org>"
                                    b"\r\n\r\nno water since Monday\r\n")
            assert refused == {}
        with sqlite3.connect(data_dir / "hotline.sqlite3", timeout=5) as db:
            assert db.execute("SELECT channel, title FROM orders_order").fetchall() == [
                ("email", "停水")]
        with urllib.request.urlopen(launched.url("/login/"), timeout=10) as response:
            assert response.status == 200
            assert b"<form" in response.read()
        # The worker runs the sweeps the scheduler enqueues (every second here).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not finished_sweeps(data_dir):
            time.sleep(0.2)
        assert finished_sweeps(data_dir) >= 1, launched.output
        launched.process.send_signal(signal.SIGTERM)
        assert launched.wait() == 0, launched.output
    finally:
        launched.kill()
    assert wait_gone(list(pids.values())), launched.output
    # uvicorn re-raises SIGTERM after its graceful shutdown; the worker and the scheduler
    # handle the signal and exit 0 (a default handler would give -15).
    assert re.search(r"web stopped cleanly \(status (0|-15)\)", launched.output), launched.output
    assert "worker stopped cleanly (status 0)" in launched.output, launched.output
    assert "scheduler stopped cleanly (status 0)" in launched.output, launched.output
    assert "voice stopped cleanly (status 0)" in launched.output, launched.output
    assert "smtp stopped cleanly (status 0)" in launched.output, launched.output


def demo_load(data_dir: Path) -> tuple[int, int, bool]:
    """(orders loaded, orders planned, finished) of the demo's background load."""
    with sqlite3.connect(data_dir / "hotline.sqlite3", timeout=5) as db:
        done, planned, finished = db.execute(
            "SELECT orders_done, orders_planned, finished_at IS NOT NULL FROM demo_demoload"
        ).fetchone()
    return int(done), int(planned), bool(finished)


def log_in(launched: Launched, username: str, password: str) -> tuple[int, str]:
    """Log in through the login form (a page that writes: the session, the login record);
    returns the status and the address of the page it lands on."""
    import http.cookiejar
    import urllib.parse

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(launched.url("/login/"), timeout=30) as page:
        form = page.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token is not None, form
    body = urllib.parse.urlencode({"username": username, "password": password,
                                   "csrfmiddlewaretoken": token.group(1)}).encode()
    request = urllib.request.Request(launched.url("/login/"), data=body,
                                     headers={"Referer": launched.url("/login/")})
    with opener.open(request, timeout=30) as response:
        return response.status, response.url


def test_the_demo_orders_load_in_the_background_while_pages_are_served(
    tmp_path: Path,
) -> None:
    launched = Launched(tmp_path, "--no-voice", "--no-smtp", demo_orders=DEMO_ORDERS)
    try:
        launched.wait_until_ready()
        assert (f"the worker loads the demo's {DEMO_ORDERS} work orders in the background"
                in launched.output)
        assert "demo logins (username, password, role, unit):" in launched.output
        # The web server answers before the orders are in, and while the worker plays them.
        served, while_loading = [], []
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            for path in ("/", "/login/"):
                with urllib.request.urlopen(launched.url(path), timeout=30) as response:
                    served.append((path, response.status))
            status, landed = log_in(launched, "agent1", "demo12345")
            served.append(("login", status))
            assert "/login/" not in landed, landed
            done, planned, finished = demo_load(tmp_path)
            if finished:
                break
            while_loading.append(done)
            time.sleep(0.5)
        assert (done, planned, finished) == (DEMO_ORDERS, DEMO_ORDERS, True), launched.output
        assert any(done < DEMO_ORDERS for done in while_loading), while_loading
        assert set(served) == {("/", 200), ("/login/", 200), ("login", 200)}
        with sqlite3.connect(tmp_path / "hotline.sqlite3", timeout=5) as db:
            (orders,) = db.execute("SELECT COUNT(*) FROM orders_order WHERE channel != 'mailbox'"
                                   ).fetchone()
            (polls,) = db.execute("SELECT COUNT(*) FROM outreach_poll").fetchone()
        assert orders == DEMO_ORDERS and polls == 1
        launched.process.send_signal(signal.SIGTERM)
        assert launched.wait() == 0, launched.output
    finally:
        launched.kill()
    # A second start finds the demo complete and loads nothing.
    again = Launched(tmp_path, "--no-voice", "--no-smtp", demo_orders=DEMO_ORDERS)
    try:
        again.wait_until_ready()
        assert "the worker loads" not in again.output
        again.process.send_signal(signal.SIGTERM)
        assert again.wait() == 0, again.output
    finally:
        again.kill()


def test_the_launchers_demo_size_is_the_demos() -> None:
    from hotline import launcher
    from hotline.demo import city

    assert launcher.DEMO_ORDERS == city.DEFAULT_ORDERS


def test_a_dying_child_stops_the_others_and_fails(data_dir: Path) -> None:
    launched = Launched(data_dir)
    try:
        launched.wait_until_ready()
        pids = launched.child_pids()
        os.kill(pids["scheduler"], signal.SIGKILL)
        assert launched.wait() != 0
    finally:
        launched.kill()
    assert "scheduler exited with status -9" in launched.output
    assert wait_gone(list(pids.values())), launched.output


def test_the_smpp_receiver_is_a_child_only_for_the_smpp_provider() -> None:
    from hotline import launcher

    assert "smpp" not in [kid.name for kid in launcher.children("127.0.0.1", 8000)]
    (smpp,) = [kid for kid in launcher.children("127.0.0.1", 8000, smpp=True)
               if kid.name == "smpp"]
    assert smpp.command[1:] == ["-m", "hotline.intake.sms.smpp_receiver"]


def test_demo_logins_are_listed_with_the_demo_password() -> None:
    from hotline import launcher
    from hotline.demo.start import Welcome

    welcome = Welcome(password="secret-pw", logins=[("alice", "Agent", "Centre"),
                                                    ("leo", "Leader", "")])
    lines = launcher.demo_login_lines(welcome)
    assert [line.split() for line in lines] == [
        ["alice", "secret-pw", "Agent", "Centre"], ["leo", "secret-pw", "Leader"]]
    assert launcher.demo_second_factor_lines(welcome) == []


def test_demo_logins_failing_do_not_stop_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline import launcher
    from hotline.demo import city, start

    def broken() -> list[tuple[str, str, str]]:
        raise RuntimeError("no such table")

    monkeypatch.setattr(city, "demo_logins", broken)
    assert launcher.demo_login_lines(start.welcome()) == [
        "  (demo logins unavailable: RuntimeError: no such table)"]


def test_the_launcher_loads_the_demo_through_its_one_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline import launcher
    from hotline.demo import start

    steps: list[str] = []
    monkeypatch.setattr(launcher, "_run_step", lambda what, *args: steps.append(args[0]))
    sizes: list[int | None] = []

    def begin(say: object, orders: int | None) -> start.Welcome:
        sizes.append(orders)
        return start.Welcome(password="pw")

    monkeypatch.setattr(start, "start", begin)
    assert launcher.prepare(load_demo=True, demo_orders=25) == start.Welcome(password="pw")
    assert sizes == [25]
    assert launcher.prepare(load_demo=False) is None
    assert steps[:2] == ["migrate", "createcachetable"]


def test_a_failing_demo_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline import launcher
    from hotline.demo import start

    def broken(say: object, orders: int | None) -> start.Welcome:
        raise RuntimeError("disk full")

    monkeypatch.setattr(launcher, "_run_step", lambda what, *args: None)
    monkeypatch.setattr(start, "start", broken)
    with pytest.raises(SystemExit, match="loading the demo failed: disk full"):
        launcher.prepare(load_demo=True)
