"""Run a fax terminal on a call's media session: received RTP audio into T.30, T.30's audio
out as RTP. The thin asyncio adapter: a member of the loop's media clock, in lock-step with
the session's pacer (both on the clock's grid, and clock members that mix run before the
streams that send): each tick hands T.30 what was heard and gives the session exactly the
frames it sends in that tick. No estimate of what the pacer took, no polling: a modem's
signal has no gap or dropped frame unless the whole loop stalls."""

from __future__ import annotations

import asyncio
from array import array

from hotline.voice.fax.spandsp import FaxResult, FaxTerminal
from hotline.voice.media.clock import media_clock
from hotline.voice.media.pacer import Pacer
from hotline.voice.media.session import MediaSession

FRAME_SAMPLES = 160


class _FaxPump:
    """The clock member: T.30 in, T.30 out, one 20 ms frame per slot of the session."""

    def __init__(self, session: MediaSession, terminal: FaxTerminal, start: float,
                 done: asyncio.Future[None]) -> None:
        self.session, self.terminal, self.done = session, terminal, done
        # The session's pacer catches up (and skips) the same way on the same grid.
        self.pacer = Pacer(start=start, max_burst=session.pacer.max_burst)

    def on_tick(self, tick_time: float) -> None:
        session, terminal = self.session, self.terminal
        while (frame := session.take_frame()) is not None:
            heard = array("h")
            heard.frombytes(frame)
            terminal.rx(heard)
        for _ in range(self.pacer.due(tick_time)):
            session.send_frame(terminal.tx(FRAME_SAMPLES).tobytes())
        self.pacer.skipped = 0
        if terminal.done and not self.done.done():
            self.done.set_result(None)


async def run_fax(session: MediaSession, terminal: FaxTerminal, *,
                  timeout: float = 300.0) -> FaxResult | None:
    """Until phase E (the fax is done or failed) or ``timeout`` seconds; None on timeout."""
    session.capture = True
    session.carry_data()
    loop = asyncio.get_running_loop()
    clock = media_clock()
    done: asyncio.Future[None] = loop.create_future()
    pump = _FaxPump(session, terminal, clock.align(loop.time()), done)
    clock.add_bridge(pump)
    try:
        await asyncio.wait_for(asyncio.shield(done), timeout)
    except TimeoutError:
        pass
    finally:
        clock.remove(pump)
    return terminal.result
