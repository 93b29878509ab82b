"""The numbers the gateway answers (merged hotline numbers, seed 001): each called number or
trunk DID may have its own IVR flow, greeting and queue (``ServiceNumber`` rows, edited in the
admin). The gateway holds them in memory, because a call's flow starts in the event loop the
moment the caller's ACK arrives, where no database work may run; it reloads them every
``REFRESH_S`` seconds in a worker thread.

A flow file that cannot be loaded does not take a number off the air: its calls get the
centre's flow, and the error is logged each time the file is looked at.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from hotline.voice.ivr.flow import Flow, FlowError, with_greeting

logger = logging.getLogger("hotline.voice")

REFRESH_S = 30.0


@dataclass(frozen=True)
class LineRow:
    """One ``ServiceNumber`` as plain values."""

    number: str
    name: str
    flow_path: str = ""
    greeting: str = ""
    queue: str = ""  # a queue code, "" for the flow's own choice


@dataclass(frozen=True)
class Line:
    number: str
    name: str
    flow: Flow
    queue: str


class LineDirectory:
    """Called number -> ``Line``. ``load_flow(path)`` reads a flow file (validated against the
    platform's services); files are read again only when they change."""

    def __init__(self, default_flow: Flow, load_flow: Callable[[str], Flow]) -> None:
        self.default_flow = default_flow
        self._load_flow = load_flow
        self._files: dict[str, tuple[float, Flow]] = {}
        self.lines: dict[str, Line] = {}

    def get(self, called: str | None) -> Line | None:
        return self.lines.get(called or "")

    def flow_for(self, called: str | None) -> Flow:
        line = self.get(called)
        return line.flow if line is not None else self.default_flow

    def _flow_file(self, path: str) -> Flow:
        if not path:
            return self.default_flow
        try:
            mtime = os.stat(path).st_mtime
            cached = self._files.get(path)
            if cached is not None and cached[0] == mtime:
                return cached[1]
            flow = self._load_flow(path)
        except (OSError, FlowError) as exc:
            logger.error("hotline number flow %s cannot be used (%s): its calls get the "
                         "centre's flow", path, exc)
            return self.default_flow
        self._files[path] = (mtime, flow)
        return flow

    def update(self, rows: Iterable[LineRow]) -> None:
        """Replace the numbers by ``rows`` (one assignment: a call looking a number up sees
        the old set or the new one, never half of each)."""
        self.lines = {row.number: Line(row.number, row.name,
                                       with_greeting(self._flow_file(row.flow_path), row.greeting),
                                       row.queue)
                      for row in rows}

    def static_texts(self) -> set[str]:
        found: set[str] = set()
        for line in self.lines.values():
            found |= line.flow.static_texts()
        return found
