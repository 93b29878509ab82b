"""``python -m hotline.launcher``: the whole hotline in one process tree (what ``make run`` runs).

It migrates the database, writes the demo's directory and staff into an empty one (the worker
then loads the demo's work orders in the background, ``hotline.demo.background``: the first page
is served while it does), then starts and watches
- ``web``: uvicorn serving the ASGI application (HTTP now, websockets later),
- ``worker``: the django-tasks database worker (``manage.py db_worker``; it also finishes the
  demo),
- ``scheduler``: the command that runs the periodic jobs the domains declare (hotline.worker),
- ``voice``: the SIP/RTP/IVR gateway (``python -m hotline.voice.server``; SIP on
  HOTLINE_SIP_BIND, 127.0.0.1:5060 by default; ``--no-voice`` or HOTLINE_NO_VOICE=1 leaves
  it out).
- ``smtp``: the email channel's SMTP receiver (``python -m hotline.intake.email.server``; on
  HOTLINE_SMTP_LISTEN, 127.0.0.1:2525 by default; ``--no-smtp`` or HOTLINE_NO_SMTP=1 leaves it
  out).
- ``smpp``: the SMS receiver of an operator's SMSC (``python -m hotline.intake.sms.smpp_receiver``:
  delivery receipts and citizens' messages), only when HOTLINE_SMS_PROVIDER=smpp.
SIGINT and SIGTERM are passed on to the children; when one child dies the others are stopped and
the launcher exits non-zero, so a supervisor (systemd, a container runtime) sees the failure.

Children run in their own session so a Ctrl-C in the terminal reaches them once, through the
launcher; on Linux they are also told to stop if the launcher itself is killed.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hotline.demo.start import Welcome

SETTINGS = "hotline.settings"
STOP_TIMEOUT = 10.0  # seconds a child gets to stop before it is killed
READY_TIMEOUT = 60.0  # seconds to wait for the web server to accept connections
PR_SET_PDEATHSIG = 1
DEMO_ORDERS = 3000  # the demo's work orders (hotline.demo.city.DEFAULT_ORDERS)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to send SIGTERM to this child when the launcher dies (even by SIGKILL)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _say(message: str) -> None:
    print(f"[launcher] {message}", flush=True)


def _manage(*args: str) -> list[str]:
    return [sys.executable, "-m", "django", *args]


def _run_step(what: str, command: str, *args: str) -> None:
    """Run a management command in this process (it saves starting another interpreter)."""
    from django.core.management import call_command

    _say(what)
    try:
        call_command(command, *args)
    except Exception as exc:
        traceback.print_exc()
        raise SystemExit(f"[launcher] {what} failed: {exc}") from exc


# --- preparing the database ----------------------------------------------------------------

def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS)
    import django

    django.setup()


def prepare(load_demo: bool, demo_orders: int | None = None) -> Welcome | None:
    """Migrate, collect static files when not in DEBUG, and begin the demo in a database
    without orders (the worker loads its work orders once it runs, so the web server starts
    after seconds, not minutes); returns who can log in to the demo (None without it)."""
    _setup_django()
    from django.conf import settings
    from django.db import connections

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        name = settings.DATABASES["default"]["NAME"]
        os.makedirs(os.path.dirname(str(name)) or ".", exist_ok=True)
    _run_step("migrating the database", "migrate", "--noinput", "-v", "0")
    # Migration api 0003 made it already; this covers a switch from Redis to the database cache.
    _run_step("creating the cache table", "createcachetable", "-v", "0")
    if not settings.DEBUG:
        _run_step("collecting static files", "collectstatic", "--noinput", "-v", "0")
    welcome = None
    if load_demo:
        from hotline.demo.start import start as start_demo

        try:
            welcome = start_demo(_say, demo_orders)
        except Exception as exc:
            traceback.print_exc()
            raise SystemExit(f"[launcher] loading the demo failed: {exc}") from exc
    connections.close_all()
    return welcome


def demo_login_lines(welcome: Welcome) -> list[str]:
    """The demo accounts, with their password, one line each."""
    if welcome.unavailable:
        return [f"  (demo logins unavailable: {welcome.unavailable})"]
    width = max((len(username) for username, _role, _unit in welcome.logins), default=0)
    lines = []
    for username, *rest in welcome.logins:
        described = "  ".join(part for part in rest if part)
        lines.append(f"  {username:<{width}}  {welcome.password}  {described}".rstrip())
    return lines


def demo_second_factor_lines(welcome: Welcome) -> list[str]:
    """The demo administrators' authenticator keys (they log in with a TOTP code too)."""
    width = max((len(username) for username, _key, _uri in welcome.second_factors), default=0)
    return [f"  {username:<{width}}  {key}  {uri}"
            for username, key, uri in welcome.second_factors]


# --- the process tree ----------------------------------------------------------------------

@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            self.command, env=_child_env(), start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        _say(f"started {self.name} (pid {self.process.pid})")

    def exit_status(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)


# The launcher decides what to start, and checks the SIP port, before Django's settings are
# loaded (``prepare`` loads them); so it reads its few variables itself, through the same typed
# helpers as hotline/settings.py (a bad value stops the start with the same message).

def sip_bind() -> tuple[str, int]:
    from hotline.env import env_host_port

    return env_host_port("HOTLINE_SIP_BIND", "127.0.0.1:5060", 5060)


def smtp_listen() -> tuple[str, int]:
    from hotline.env import env_host_port

    return env_host_port("HOTLINE_SMTP_LISTEN", "127.0.0.1:2525", 2525)


def smtp_listen_text() -> str:
    host, port = smtp_listen()
    return f"{host}:{port}"


def check_smtp_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SystemExit(
                f"[launcher] the SMTP receiver's port {host}:{port} (TCP) is not free: "
                f"{exc.strerror}. Set HOTLINE_SMTP_LISTEN=127.0.0.1:2526 (for example), or "
                "start with --no-smtp."
            ) from exc


def check_sip_port_free(host: str, port: int) -> None:
    """Fail before starting anything when the SIP port is taken, saying what to do."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SystemExit(
                f"[launcher] the voice gateway's SIP port {host}:{port} (UDP) is not free: "
                f"{exc.strerror}. Stop whatever uses it (another hotline, a softphone), or set "
                "HOTLINE_SIP_BIND=127.0.0.1:5070 (for example), or start with --no-voice."
            ) from exc


def proxy_options() -> list[str]:
    """uvicorn's forwarded-header options from HOTLINE_TRUSTED_PROXIES. uvicorn's own default
    believes X-Forwarded-For from 127.0.0.1, so anything on this host (or a client reaching it
    through a local port forward) could claim any address: with no trusted proxies the
    headers are switched off entirely."""
    from hotline.env import env_networks

    trusted = env_networks("HOTLINE_TRUSTED_PROXIES", [])
    if not trusted:
        return ["--no-proxy-headers"]
    return ["--proxy-headers", "--forwarded-allow-ips", ",".join(trusted)]


def children(host: str, port: int, *, voice: bool = False, smtp: bool = False,
             smpp: bool = False) -> list[Child]:
    kids = [
        Child("web", [
            sys.executable, "-m", "uvicorn", "hotline.asgi:application",
            "--host", host, "--port", str(port), "--lifespan", "off", "--no-server-header",
            *proxy_options(),
        ]),
        # The launcher ran the system checks (with migrate): the children skip them and start
        # faster.
        Child("worker", _manage("db_worker", "--skip-checks", "--no-reload",
                                "--no-startup-delay", "--interval", "1")),
        Child("scheduler", _manage("scheduler", "--skip-checks")),
    ]
    if voice:
        kids.append(Child("voice", [sys.executable, "-m", "hotline.voice.server"]))
    if smtp:
        kids.append(Child("smtp", [sys.executable, "-m", "hotline.intake.email.server"]))
    if smpp:
        kids.append(Child("smpp", [sys.executable, "-m", "hotline.intake.sms.smpp_receiver"]))
    return kids


class Supervisor:
    def __init__(self, kids: list[Child]) -> None:
        self.kids = kids
        self.stop_signal: int | None = None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop_signal = signum

    def run(self, ready: Any = None) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        try:
            for kid in self.kids:
                kid.start()
            if ready is not None:
                ready(self)
            return self._watch()
        finally:
            self.stop_all()

    def _watch(self) -> int:
        while self.stop_signal is None:
            for kid in self.kids:
                status = kid.exit_status()
                if status is not None:
                    _say(f"{kid.name} exited with status {status}: stopping the others")
                    return status if status > 0 else 1
            time.sleep(0.2)
        _say(f"received {signal.Signals(self.stop_signal).name}: stopping")
        return 0

    def stop_all(self) -> None:
        signum = self.stop_signal if self.stop_signal is not None else signal.SIGTERM
        for kid in self.kids:
            kid.signal(signum)
        deadline = time.monotonic() + STOP_TIMEOUT
        for kid in self.kids:
            if kid.process is None:
                continue
            already = kid.process.returncode is not None
            try:
                status = kid.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _say(f"{kid.name} did not stop in {STOP_TIMEOUT:.0f} s: killing it")
                kid.process.kill()
                status = kid.process.wait()
            if not already:
                # uvicorn re-raises the signal after its graceful shutdown: that is clean too.
                clean = status in (0, -signum)
                _say(f"{kid.name} stopped {'cleanly' if clean else 'with an error'} "
                     f"(status {status})")


def wait_for_port(host: str, port: int, supervisor: Supervisor) -> bool:
    """Wait until the web server accepts connections (or a child dies, or we are stopped)."""
    deadline = time.monotonic() + READY_TIMEOUT
    target = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)  # noqa: S104
    while time.monotonic() < deadline and supervisor.stop_signal is None:
        if any(kid.exit_status() is not None for kid in supervisor.kids):
            return False
        with contextlib.suppress(OSError), socket.create_connection((target, port), timeout=0.5):
            return True
        time.sleep(0.1)
    return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hotline.launcher", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-demo", action="store_true",
                        help="do not load demo data (also: HOTLINE_NO_DEMO=1)")
    parser.add_argument("--no-voice", action="store_true",
                        help="do not start the voice gateway (also: HOTLINE_NO_VOICE=1)")
    parser.add_argument("--no-smtp", action="store_true",
                        help="do not start the SMTP receiver (also: HOTLINE_NO_SMTP=1)")
    args = parser.parse_args(argv)
    from hotline.env import env_bool, env_int_at_least

    # The launcher's own switches, the same as its options (not settings of the site).
    no_demo = args.no_demo or env_bool("HOTLINE_NO_DEMO", False)
    demo_orders = env_int_at_least("HOTLINE_DEMO_ORDERS", DEMO_ORDERS, 0)
    voice = not (args.no_voice or env_bool("HOTLINE_NO_VOICE", False))
    if voice:
        check_sip_port_free(*sip_bind())
    smtp = not (args.no_smtp or env_bool("HOTLINE_NO_SMTP", False))
    if smtp:
        check_smtp_port_free(*smtp_listen())

    welcome = prepare(load_demo=not no_demo, demo_orders=demo_orders)
    logins = [] if welcome is None else demo_login_lines(welcome)
    second_factors = [] if welcome is None else demo_second_factor_lines(welcome)
    from django.conf import settings
    from django.db import connections

    connections.close_all()  # the children open their own; this process needs none
    smpp = settings.HOTLINE_SMS_PROVIDER == "smpp"  # the settings are loaded by now
    shown_host = f"[{args.host}]" if ":" in args.host else args.host

    def announce(supervisor: Supervisor) -> None:
        if not wait_for_port(args.host, args.port, supervisor):
            return
        _say(f"the hotline is running at http://{shown_host}:{args.port}/")
        if voice:
            sip_host, sip_port = sip_bind()
            _say(f"call it with a SIP softphone: sip:12345@{sip_host}:{sip_port} (UDP)")
        if smtp:
            _say(f"write to it by SMTP: {smtp_listen_text()} (to 12345@<HOTLINE_MAIL_DOMAINS>)")
        if smpp:
            _say(f"SMS through the SMSC at {settings.HOTLINE_SMPP_HOST}:"
                 f"{settings.HOTLINE_SMPP_PORT} (SMPP 3.4)")
        if logins:
            _say("demo logins (username, password, role, unit):")
            for line in logins:
                print(line, flush=True)
        if second_factors:
            _say("demo administrators also enter a code: add the key (or the otpauth URI) to an "
                 "authenticator app")
            for line in second_factors:
                print(line, flush=True)
        _say("press Ctrl-C to stop")

    return Supervisor(children(args.host, args.port, voice=voice, smtp=smtp, smpp=smpp)
                      ).run(ready=announce)


if __name__ == "__main__":
    sys.exit(main())
