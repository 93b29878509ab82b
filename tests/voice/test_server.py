"""The gateway process: a clear message when the SIP port is taken, from the command and the
launcher; the flow file is validated before anything is bound."""

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environ.update(DJANGO_SETTINGS_MODULE="hotline.settings", HOTLINE_DATA_DIR=str(tmp_path),
                   HOTLINE_DEBUG="1", HOTLINE_TTS="tone", **env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=60)


def test_the_gateway_says_which_sip_port_is_taken(busy_port: int, tmp_path: Path) -> None:
    done = run(["-m", "hotline.voice.server", "--sip", f"127.0.0.1:{busy_port}"], tmp_path)
    assert done.returncode != 0
    assert f"SIP port 127.0.0.1:{busy_port} is already in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_launcher_refuses_to_start_on_a_taken_sip_port(busy_port: int, tmp_path: Path) -> None:
    done = run(["-m", "hotline.launcher", "--no-demo", "--port", "1"], tmp_path,
               HOTLINE_SIP_BIND=f"127.0.0.1:{busy_port}")
    assert done.returncode != 0
    assert f"SIP port 127.0.0.1:{busy_port} (UDP) is not free" in done.stderr + done.stdout
    assert "--no-voice" in done.stderr + done.stdout


def test_a_broken_flow_file_is_refused_with_every_problem(tmp_path: Path) -> None:
    flow = tmp_path / "flow.yaml"
    flow.write_text("start: a\noperator: a\nnodes:\n  a: {type: menu, prompt: hi, "
                    "choices: {'1': b}}\n")
    done = run(["-m", "hotline.voice.server", "--sip", "127.0.0.1:0", "--flow", str(flow)],
               tmp_path)
    assert done.returncode != 0
    assert "node 'a': unknown node 'b'" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_gateway_runs_on_uvloop_when_asked_and_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from hotline.voice import server

    async def which_loop() -> str:
        return type(asyncio.get_running_loop()).__module__

    pytest.importorskip("uvloop")
    assert server.run_loop(which_loop(), "uvloop").startswith("uvloop")
    assert server.run_loop(which_loop()).startswith("asyncio")  # HOTLINE_VOICE_LOOP's default
    monkeypatch.setitem(sys.modules, "uvloop", None)  # not installed: asyncio's own loop
    assert server.loop_factory("uvloop") is None
    assert server.run_loop(which_loop(), "uvloop").startswith("asyncio")


def test_the_start_up_objects_are_frozen_out_of_the_collectors_reach() -> None:
    import gc

    from hotline.voice import server

    try:
        server.freeze_startup_objects()
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
