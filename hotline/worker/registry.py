"""The registry of periodic jobs: every installed ``hotline`` app may declare its own in
``<app>/tasks.py`` as ``PERIODIC = [PeriodicJob(...), ...]``. A new domain adds its jobs there;
the worker itself names no domain."""

from __future__ import annotations

from importlib import import_module

from django.apps import apps
from django.utils.module_loading import module_has_submodule

from hotline.core.periodic import PeriodicJob

DECLARATIONS = "tasks"


def periodic_jobs() -> list[PeriodicJob]:
    """Every declared job, in the order of INSTALLED_APPS; a name used twice is an error (the
    scheduler keeps its clocks by name)."""
    jobs: list[PeriodicJob] = []
    for app in apps.get_app_configs():
        if not app.name.startswith("hotline.") or not module_has_submodule(app.module,
                                                                            DECLARATIONS):
            continue
        module = import_module(f"{app.name}.{DECLARATIONS}")
        jobs.extend(getattr(module, "PERIODIC", []))
    names = [job.name for job in jobs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"periodic jobs declared twice: {', '.join(twice)}")
    return jobs
