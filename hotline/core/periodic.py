"""What a domain declares to be run periodically: ``PERIODIC = [PeriodicJob(...), ...]`` in the
domain's ``tasks.py``. The worker (``hotline.worker``) collects the declarations of every
installed app and runs them; the domains never import the worker, nor one another for this.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Seconds, or the name of the (numeric) setting that holds them, or a function computing them
# from the settings; read when the scheduler starts. Zero or less switches the job off.
Interval = float | str | Callable[[], float]


@dataclass(frozen=True)
class PeriodicJob:
    """One periodic job: every ``every_s`` seconds (and once when the scheduler starts) either
    ``task`` is enqueued for the task worker, unless one is still waiting in the queue (a
    stopped worker must not find a pile of identical tasks when it comes back), or ``run`` is
    called in the scheduler itself (cheap housekeeping: one indexed query).

    ``when``, if given, is asked each time the interval has passed, with the seconds since the
    job last went ahead (None: never yet); False skips this turn. It lets a job decide from
    the data (the classifier retrains only when its model is old enough).
    """

    name: str
    every_s: Interval
    task: Any = None  # a django_tasks Task
    run: Callable[[], object] | None = None
    when: Callable[[float | None], bool] | None = None

    def __post_init__(self) -> None:
        if (self.task is None) == (self.run is None):
            raise ValueError(f"periodic job {self.name!r}: give either a task or a function")

    def interval(self, settings: Any, overrides: Mapping[str, float] | None = None) -> float:
        """The job's period in seconds, from ``settings`` (and a setting's ``overrides``)."""
        if isinstance(self.every_s, str):
            if overrides and self.every_s in overrides:
                return float(overrides[self.every_s])
            return float(getattr(settings, self.every_s))
        if callable(self.every_s):
            return float(self.every_s())
        return float(self.every_s)
