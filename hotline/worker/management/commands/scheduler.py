"""``manage.py scheduler``: run the periodic jobs every domain declares (``hotline.worker``).

Each job is due when the scheduler starts and then every its own interval: most enqueue a task
for the worker (``db_worker``), unless the previous one is still waiting in the queue; a few
cheap ones run here (ending agents' finished wrap-up time every second). SIGTERM and SIGINT
stop it between two ticks; ``--once`` runs every job once and exits.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from hotline.worker.registry import periodic_jobs
from hotline.worker.scheduler import Scheduler

log = logging.getLogger("hotline.scheduler")

SWEEP_SETTING = "HOTLINE_SWEEP_SECONDS"


class Command(BaseCommand):
    help = "Run the periodic background jobs (the deadline sweep and the others) on time."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true",
                            help="run every periodic job once and exit")
        parser.add_argument(
            "--interval", type=float, default=None,
            help=f"seconds between sweeps (default: {SWEEP_SETTING})",
        )

    def handle(self, *args: Any, once: bool = False, interval: float | None = None,
               **options: Any) -> None:
        if interval is not None and interval <= 0:
            raise ValueError("the sweep interval must be positive")
        overrides = {} if interval is None else {SWEEP_SETTING: interval}
        scheduler = Scheduler(periodic_jobs(), overrides=overrides)
        if once:
            for name, outcome in scheduler.tick().items():
                self.stdout.write(f"{name}: {outcome}")
            return

        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        log.info("scheduler started: %s", ", ".join(
            f"{job.name} every {scheduler.every[job.name]:g} s" for job in scheduler.jobs
            if scheduler.is_on(job)))
        while not stop.is_set():
            scheduler.tick()
            close_old_connections()
            stop.wait(scheduler.seconds_to_next())
        log.info("scheduler stopped")
