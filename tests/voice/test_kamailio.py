"""Scale-out: Kamailio's dispatcher spreads calls over two gateways; dialogs stay whole.

Kamailio (Debian `kamailio`) runs kamailio/kamailio.cfg on a free port with a dispatcher
list naming two in-process gateways; sipp places calls to the proxy. Each gateway must take
its share (round robin), and the in-dialog ACK and BYE must reach the gateway that answered
(through the Record-Route), or sipp would time out.
"""

import asyncio
import os
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest

from hotline.contactcentre.ivr import node_visit_counts
from hotline.orders.models import Contact
from hotline.voice.gateway import GatewayConfig
from hotline.voice.prompts import ToneTts
from hotline.voice.server import build_gateway
from tests.conftest import City
from tests.voice.test_gateway_sipp import short_flow
from tests.voice.test_udp_sipp import free_udp_port

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).parent / "scenarios" / "uac_through_proxy.xml"
CALLS = 4


async def start_kamailio(tmp_path: Path, port: int, gateways: list[Any]) -> asyncio.subprocess.Process:
    listing = tmp_path / "dispatcher.list"
    listing.write_text("".join(f"1 sip:127.0.0.1:{g.sip_port}\n" for g in gateways))
    with open(tmp_path / "kamailio.log", "wb") as log:  # the child keeps its own descriptor
        process = await asyncio.create_subprocess_exec(
            shutil.which("kamailio") or "/usr/sbin/kamailio",
            "-f", str(ROOT / "kamailio" / "kamailio.cfg"),
            "-D", "-E", "-l", f"udp:127.0.0.1:{port}", "-A", f'DISPATCHER_LIST="{listing}"',
            "-A", "PING_INTERVAL=1", "-w", str(tmp_path), "-Y", str(tmp_path),
            "-P", str(tmp_path / "kamailio.pid"), "-m", "32", "-M", "8",
            stdout=asyncio.subprocess.DEVNULL, stderr=log, start_new_session=True,
        )
    await asyncio.sleep(1.0)  # workers forked, sockets bound
    assert process.returncode is None, (tmp_path / "kamailio.log").read_text()
    return process


async def scenario(tmp_path: Path) -> tuple[int | None, list[Any], str]:
    gateways = []
    for index in range(2):
        base = 39600 + 20 * index
        config = GatewayConfig(sip_port=0, rtp_ports=(base, base + 9),
                               recordings_dir=tmp_path / f"recordings{index}")
        gateway = build_gateway(config, flow=short_flow(), tts=ToneTts(seconds=0.05),
                                prompt_dir=tmp_path / "prompts")
        await gateway.start(warm=False)
        gateways.append(gateway)
    proxy_port = free_udp_port()
    kamailio = await start_kamailio(tmp_path, proxy_port, gateways)
    try:
        sipp = await asyncio.create_subprocess_exec(
            shutil.which("sipp") or "sipp", "-sf", str(SCENARIO), "-s", "12345",
            f"127.0.0.1:{proxy_port}", "-i", "127.0.0.1", "-p", str(free_udp_port()),
            "-mp", str(free_udp_port()), "-m", str(CALLS), "-r", "4", "-l", str(CALLS),
            "-nostdin", "-timeout", "30s", "-timeout_error",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(sipp.communicate(), timeout=60)
        for _ in range(60):
            if sum(len(g.entries("end")) for g in gateways) >= CALLS:
                break
            await asyncio.sleep(0.05)
    finally:
        os.killpg(kamailio.pid, signal.SIGTERM)
        await asyncio.wait_for(kamailio.wait(), timeout=10)
        for gateway in gateways:
            await gateway.stop()
    log = stderr.decode(errors="replace") + (tmp_path / "kamailio.log").read_text(errors="replace")
    return sipp.returncode, gateways, log


def test_kamailio_spreads_calls_over_two_gateways(city: City, tmp_path: Path) -> None:
    if shutil.which("kamailio") is None and not Path("/usr/sbin/kamailio").exists():
        pytest.fail("kamailio is not installed: apt-get install -y kamailio")
    code, gateways, log = asyncio.run(scenario(tmp_path))
    assert code == 0, log
    taken = [len(g.entries("call")) for g in gateways]
    assert taken == [CALLS // 2, CALLS // 2], log
    for gateway in gateways:
        assert gateway.entries("end") == ["remote_bye"] * (CALLS // 2), log  # BYE got through
        assert gateway.entries("visit") == ["welcome"] * (CALLS // 2)
    assert Contact.objects.filter(summary__startswith="IVR: welcome").count() == CALLS
    assert node_visit_counts() == {"welcome": CALLS}  # one IvrVisit row per call
