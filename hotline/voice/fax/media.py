"""Run a fax terminal on a call's media session: received RTP audio into T.30, T.30's audio
out as RTP. The thin asyncio adapter; the session's pacer keeps the 20 ms RTP clock and this
loop keeps a couple of frames queued ahead of it."""

from __future__ import annotations

import asyncio
from array import array

from hotline.voice.fax.spandsp import FaxResult, FaxTerminal
from hotline.voice.media.session import MediaSession

FRAME_SAMPLES = 160
AHEAD = 2  # frames queued ahead of the pacer: enough to cover a late tick, little delay


async def run_fax(session: MediaSession, terminal: FaxTerminal, *,
                  timeout: float = 300.0) -> FaxResult | None:
    """Until phase E (the fax is done or failed) or ``timeout`` seconds; None on timeout."""
    session.capture = True
    session.carry_data()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    queued = 0
    sent_at = loop.time()
    while not terminal.done and loop.time() < deadline:
        while (frame := session.take_frame()) is not None:
            heard = array("h")
            heard.frombytes(frame)
            terminal.rx(heard)
        # Frames the pacer has taken since the last tick (one per 20 ms) make room for more.
        now = loop.time()
        queued = max(0, queued - int((now - sent_at) / 0.02))
        sent_at = now if queued == 0 else sent_at + 0.02 * int((now - sent_at) / 0.02)
        while queued < AHEAD:
            session.send_frame(terminal.tx(FRAME_SAMPLES).tobytes())
            queued += 1
        await asyncio.sleep(0.01)
    return terminal.result
