"""Build and run the voice gateway from the settings (hotline/settings.py, .env.example).

    python -m hotline.voice.server [--sip HOST:PORT] [--rtp-ports FIRST-LAST] [--flow FILE]
                                   [--direct]

Settings from the environment: HOTLINE_SIP_BIND (127.0.0.1:5060), HOTLINE_RTP_PORTS (20000-20999),
HOTLINE_VOICE_LOOP (asyncio, or uvloop when installed),
HOTLINE_RTP_HOST, HOTLINE_SIP_ADVERTISE, HOTLINE_IVR_FLOW (the packaged default flow),
HOTLINE_IVR_DIRECT (1: every caller goes straight to a person), HOTLINE_TTS (espeak or
tone), HOTLINE_ACD (0: no queues, a call-back request instead), HOTLINE_SIP_TRUNK (HOST:PORT
where calls to department and emergency numbers go), HOTLINE_GATEWAY_ID, HOTLINE_SIP_REALM.
A port already in use stops the process with a message saying which and how to change it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from hotline.env import ConfigError, parse_host_port, parse_port_range
from hotline.voice.gateway import (
    GatewayConfig,
    VoiceGateway,
    config_from_settings,
)
from hotline.voice.ivr.flow import DEFAULT_FLOW, Flow, FlowError, load_flow
from hotline.voice.lines import LineDirectory
from hotline.voice.prompts import EspeakTts, PromptLibrary, ToneTts, Tts, default_tts

logger = logging.getLogger(__name__)
T = TypeVar("T")


class PortInUse(SystemExit):
    pass


def make_tts(name: str = "") -> Tts:
    from django.conf import settings

    name = name or settings.HOTLINE_TTS
    if name == "tone":
        return ToneTts()
    if name == "espeak" and EspeakTts.available():
        return EspeakTts()
    return default_tts()


def load_configured_flow(path: str | None = None) -> Flow:
    from django.conf import settings

    from hotline.voice.services import SERVICES

    return load_flow(path or settings.HOTLINE_IVR_FLOW or DEFAULT_FLOW,
                     services=SERVICES)


def build_gateway(config: GatewayConfig, *, flow: Flow | None = None, tts: Tts | None = None,
                  prompt_dir: str | Path | None = None) -> VoiceGateway:
    """A gateway wired to the platform's services (Django must be set up)."""
    from django.conf import settings

    from hotline.voice import services

    prompts = PromptLibrary(tts or make_tts(), prompt_dir or Path(settings.DATA_DIR) / "prompts")
    centre_flow = flow or load_configured_flow()
    gateway = VoiceGateway(
        centre_flow, prompts, config,
        run_service=services.run_service,
        make_context=lambda call_id, user, called, line_queue: services.CallContext(
            call_id, services.caller_number(user), called_number=(called or "")[:64],
            line_queue=line_queue),
        start_call=services.start_call, finish_call=services.finish_call,
        lines=LineDirectory(centre_flow, load_configured_flow),
        load_lines=services.service_number_rows,
    )
    if config.fax_numbers:
        from hotline.voice.fax.calls import FaxCalls

        gateway.fax = FaxCalls(gateway, config.fax_numbers)
    if config.trunk is not None and config.send_faxes:
        from hotline.voice.fax import spandsp

        if spandsp.available():
            from hotline.voice.fax.sender import FaxSender

            gateway.fax_out = FaxSender(gateway, config.trunk)
        else:
            logger.warning("libspandsp2 is missing: this gateway sends no faxes")
    if config.outbound:
        from hotline.voice.outbound import OutboundDialler

        gateway.outbound = OutboundDialler(gateway, fallback=config.trunk,
                                           ring_timeout_s=config.outbound_ring_s)
    if config.acd:
        from hotline.voice.agentcalls import AgentCalls

        gateway.agents = AgentCalls(gateway, gateway_id=config.gateway_id, trunk=config.trunk,
                                    realm=config.sip_realm, digest=config.sip_digest,
                                    lock=(config.extension_max_failures,
                                          config.extension_lock_seconds))
        gateway.transfer_handler = gateway.agents.transfer
    return gateway


async def serve(gateway: VoiceGateway) -> None:
    try:
        await gateway.start()
    except OSError as exc:
        # uvloop raises its own OSError, without errno, from the bind's (its __cause__).
        if errno.EADDRINUSE in (exc.errno, getattr(exc.__cause__, "errno", None)):
            raise PortInUse(
                f"voice gateway: SIP port {gateway.config.sip_host}:{gateway.config.sip_port} "
                "is already in use (another gateway or softphone?). Stop it or choose another "
                "with --sip HOST:PORT or HOTLINE_SIP_BIND.") from exc
        raise
    freeze_startup_objects()
    print(f"[voice] SIP on {gateway.config.sip_host}:{gateway.sip_port} (UDP), RTP ports "
          f"{gateway.config.rtp_ports[0]}-{gateway.config.rtp_ports[1]}; call "
          f"sip:12345@{gateway.config.advertised_host or gateway.config.sip_host}:"
          f"{gateway.sip_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await gateway.stop()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="voice_gateway", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return parser.parse_args(argv)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sip", help="HOST:PORT to serve SIP on (UDP)")
    parser.add_argument("--rtp-ports", help="FIRST-LAST UDP ports for media")
    parser.add_argument("--flow", help="the IVR flow file (YAML or JSON)")
    parser.add_argument("--direct", action="store_true", help="direct-to-agent mode")


def config_from_options(sip: str | None, rtp_ports: str | None, direct: bool) -> GatewayConfig:
    from django.conf import settings

    config = config_from_settings()
    if sip:
        host, port = parse_host_port(sip, 5060, "--sip")
        config = dataclasses.replace(config, sip_host=host, sip_port=port,
                                     rtp_host=settings.HOTLINE_RTP_HOST or host)
    if rtp_ports:
        config = dataclasses.replace(config, rtp_ports=parse_port_range(rtp_ports, "--rtp-ports"))
    if direct:
        config = dataclasses.replace(config, direct_to_agent=True)
    return config


def loop_factory(name: str | None = None) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop if it is wanted (`name`, default HOTLINE_VOICE_LOOP) and installed
    (uvicorn[standard] brings it), else None (asyncio's own). Its datagram transports cost
    less than asyncio's, but under load it left the IVR's database saves late (measured in
    bench/README.md), so asyncio's loop is the default."""
    if name is None:
        from django.conf import settings

        name = settings.HOTLINE_VOICE_LOOP if settings.configured else "asyncio"
    if name != "uvloop":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def freeze_startup_objects() -> None:
    """Move everything alive now (Django, the models, the flow, the prompts: ~150,000
    objects) out of the cyclic garbage collector's reach (`gc.freeze`). A full collection
    over them takes ~120 ms on the 2-core machine, and it runs on the event loop: every call's
    packets would wait for it. After the freeze a full collection scans only what the calls
    made since. Once, when the gateway has started."""
    gc.collect()
    gc.freeze()


def run_loop(main: Coroutine[Any, Any, T], loop: str | None = None) -> T:
    """Run the gateway's main coroutine on the gateway's loop (``loop_factory``)."""
    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        return runner.run(main)


def run(sip: str | None = None, rtp_ports: str | None = None, flow: str | None = None,
        direct: bool = False) -> None:
    config = config_from_options(sip, rtp_ports, direct)
    gateway = build_gateway(config, flow=load_configured_flow(flow))
    run_loop(serve(gateway))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
    import django

    django.setup()
    from django.conf import settings

    logging.basicConfig(level=settings.HOTLINE_LOG_LEVEL,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run(args.sip, args.rtp_ports, args.flow, args.direct)
    except (FlowError, ConfigError) as exc:
        raise SystemExit(f"voice gateway: {exc}") from exc
    return 0


if __name__ == "__main__":
    sys.exit(main())
