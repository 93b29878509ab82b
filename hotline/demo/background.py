"""The demo loaded in two parts, so that ``make run`` serves its first page in seconds.

Playing the demo's 3,000 work orders through the order services (every step a real,
hash-chained history event) costs about a minute of CPU, more than the whole first start may
take. So the launcher writes only the directory, the staff and the plan (``do_begin``) before
the web server starts; the worker then plays the orders in chunks of ``CHUNK_ORDERS``, one
short transaction each (``do_play_next_chunk``, from ``tasks.load_demo_chunk_task``), so the
pages, logins included, keep writing between two chunks. After the last chunk come what needs
the orders: the assessment's months, appointments and partners, call backs, the campaign, a
fresh clustering of the hot issues and their snapshots, and a classifier trained on the whole
history. ``DemoLoad`` remembers how far it got: a start interrupted half-way goes on where it
stopped.

Every chunk replays the same plan (``stories.plan_orders`` from the seed and the anchored
moment: the orders' times and endings) and plays its slice with a random stream seeded by its
first position, so a chunk played again after an interruption plays the same orders, and the
orders stay in time order across chunks (a merge joins an order made before it).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from hotline.demo.city import build_directory, build_staff, directory_from_database
from hotline.demo.data.stories import plan_orders, play_orders
from hotline.demo.models import DemoLoad
from hotline.directory.models import Unit

log = logging.getLogger("hotline.demo")

# Orders per transaction: about a second of CPU, so a page that writes (a login) waits at most
# that long for SQLite's write lock.
CHUNK_ORDERS = 40


def current() -> DemoLoad | None:
    return DemoLoad.objects.order_by("pk").first()


def unfinished() -> bool:
    return DemoLoad.objects.filter(finished_at__isnull=True).exists()


def do_begin(orders: int, seed: int) -> DemoLoad | None:
    """The directory, the staff and the plan, in one transaction; None (nothing written) when
    the directory already has units."""
    if Unit.objects.exists():
        return None
    cpu, now = time.process_time(), timezone.now()
    with transaction.atomic():
        city = build_directory()
        build_staff(city)
        return DemoLoad.objects.create(seed=seed, orders_planned=orders, anchored_at=now,
                                       started_at=now, cpu_seconds=time.process_time() - cpu)


def do_play_next_chunk(size: int = CHUNK_ORDERS) -> DemoLoad | None:
    """Play the next ``size`` planned orders in one transaction, or, once all are in, the
    loads that need them; returns the load as it is now (None when no demo is being loaded).
    Safe to run twice at once: a chunk is claimed by moving the count before playing it."""
    load = current()
    if load is None or load.finished:
        return load
    start, end = load.orders_done, min(load.orders_done + size, load.orders_planned)
    if start < end:
        cpu = time.process_time()
        with transaction.atomic():
            # The claim is the transaction's first write, so on SQLite it takes the write lock
            # at once; a second worker that read the same count claims nothing.
            if not DemoLoad.objects.filter(pk=load.pk, orders_done=start).update(
                    orders_done=end):
                return DemoLoad.objects.get(pk=load.pk)
            citizens, plans = plan_orders(load.orders_planned, load.seed, load.anchored_at)
            play_orders(directory_from_database(), plans[start:end], citizens,
                        random.Random(f"{load.seed}:{start}"), load.anchored_at)
            _add_cpu(load, cpu)
        load.orders_done = end
        if end // 500 > start // 500:
            log.info("demo orders: %d of %d loaded", end, load.orders_planned)
        return load
    return do_finish(load)


def do_finish(load: DemoLoad, say: Callable[[str], None] | None = None) -> DemoLoad:
    """What needs the orders, in one transaction with the mark that the demo is complete."""
    from hotline.demo import appointments, assessment, callbacks, campaigns
    from hotline.insight.snapshots import refresh_city_reports
    from hotline.insight.topics import do_cluster_epoch

    said = say or (lambda line: log.info("%s", line))
    started, cpu = time.monotonic(), time.process_time()
    with transaction.atomic():
        if not DemoLoad.objects.filter(pk=load.pk, finished_at__isnull=True).update(
                finished_at=timezone.now()):
            return DemoLoad.objects.get(pk=load.pk)  # another worker finished it
        said(assessment.score_demo_months())
        said(appointments.load_demo_appointments())
        said(callbacks.load_demo_callbacks())
        said(campaigns.load_demo_campaigns())
        # The scheduler clustered the hot issues when it started, over the orders there were
        # then: cluster them again over the whole demo.
        do_cluster_epoch()
        refresh_city_reports()
        load.finished_at = timezone.now()
        DemoLoad.objects.filter(pk=load.pk).update(finished_at=load.finished_at)
        _add_cpu(load, cpu)
        transaction.on_commit(_train_classifier)
    took = (load.finished_at - load.started_at).total_seconds()
    said(f"demo complete: {load.orders_planned} orders, {took:.0f} s after the start, "
         f"{load.cpu_seconds:.0f} s of CPU (the last loads {time.monotonic() - started:.1f} s)")
    return load


def _add_cpu(load: DemoLoad, since: float) -> None:
    spent = time.process_time() - since
    DemoLoad.objects.filter(pk=load.pk).update(cpu_seconds=F("cpu_seconds") + spent)
    load.cpu_seconds += spent


def _train_classifier() -> None:
    """The scheduler tries to train the first model as soon as it starts, on the few orders
    loaded then; this trains it on the whole demo history."""
    from hotline.triage.tasks import retrain_classifier_task

    retrain_classifier_task.enqueue(trigger="demo")
