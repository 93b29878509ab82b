"""The centre's work-queue page: one tab per queue with its count, the oldest first, rows coloured
by their deadline. It works without JavaScript; with it, a websocket (``desk.queue_consumer``)
says when an order lands in a queue, and the page fetches fresh counts (``?counts=1``) and shows
a notice."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from hotline.orders.workqueue_scope import QUEUE_ROLES, works_queues
from hotline.portal import work_queues
from hotline.web.access import StaffRequest, role_required


@role_required(works_queues, roles=QUEUE_ROLES)
def queues(request: StaffRequest) -> HttpResponse:
    counts = work_queues.counts(request.user)
    if request.GET.get("counts") == "1":
        return JsonResponse({"counts": counts})
    current = request.GET.get("queue")
    if current not in counts:
        # The first queue with something in it, so the page opens on work.
        current = next((k for k, n in counts.items() if n), next(iter(counts)))
    now = timezone.now()
    return render(request, "portal/work_queues.html", {
        "tabs": [(key, work_queues.LABELS[key], n) for key, n in counts.items()],
        "current": current,
        "current_label": work_queues.LABELS[current],
        "rows": work_queues.rows(request.user, current, now),
        "shown": work_queues.ROWS_SHOWN,
        "now": now,
    })
