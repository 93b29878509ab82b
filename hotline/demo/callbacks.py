"""Demo call-back work: a few return visits (回访) for orders the demo left in 待回访, and a few
missed calls (callers who hung up in the queue, one who asked for a call back twice), made
through the real services so the desk's list looks as it will in use."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hotline.contactcentre import services
from hotline.contactcentre.models import Queue
from hotline.outreach.callbacks import do_queue_visits
from hotline.outreach.missed_calls import do_collect_missed

DEMO_VISITS = 8
# Fictional callers (the 1380000 block is not given to subscribers in the demo city), with
# how long ago they hung up and how long they had waited.
MISSED = (("13800000101", 25, 45), ("13800000102", 12, 80), ("13800000101", 6, 30),
          ("13800000103", 3, 20))


def load_demo_callbacks(now: dt.datetime | None = None) -> str:
    """Make the demo's call-back tasks once (the sweeps are idempotent: a second run adds no
    return visit for the same round and no missed call twice)."""
    when = now or timezone.now()
    visits = do_queue_visits(now=when, limit=DEMO_VISITS)
    queue = Queue.objects.filter(active=True).order_by("code").first()
    made = 0
    if queue is not None:
        for caller, minutes_ago, waited_s in MISSED:
            joined = when - dt.timedelta(minutes=minutes_ago)
            call = services.do_enqueue_call(queue, call_ref=f"demo-missed-{caller}-{minutes_ago}",
                                            caller=caller, now=joined)
            services.do_call_abandoned(call.pk, now=joined + dt.timedelta(seconds=waited_s))
            made += 1
    taken = do_collect_missed(now=when)
    return f"call backs: {visits} return visits, {taken} of {made} missed calls taken"
