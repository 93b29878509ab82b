"""Two agents click "call" on the same task at the same moment, each on its own database
connection: exactly one gets the task and one outbound call is queued. On PostgreSQL they
truly run at once; on SQLite (a file with a busy timeout) they take turns, and the
conditional UPDATE must still let exactly one win."""

from __future__ import annotations

import datetime as dt
import functools
import threading
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from hotline.core.errors import Conflict
from hotline.outreach import callbacks
from hotline.outreach.models import OutboundCall
from hotline.outreach.models_callbacks import CallbackTask, TaskState
from tests.outreach.callback_policy import agents_call_back  # noqa: F401 - autouse
from tests.outreach.conftest import order_in_callback

pytestmark = pytest.mark.django_db(transaction=True)
NOON = dt.datetime(2026, 12, 3, 12, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))  # no quiet hours


def _race(workers: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = workers[i]()
        except Conflict as exc:
            results[i] = exc
        except BaseException as exc:  # reported below; a thread must not swallow failures
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_agents_clicking_the_same_task_one_wins(phones: Any) -> None:
    order_in_callback(phones)
    callbacks.do_queue_visits()
    task = CallbackTask.objects.get()
    results = _race([functools.partial(callbacks.do_start_call, agent, task.pk, now=NOON)
                     for agent in (phones.agent, phones.bob)])
    assert not [r for r in results if isinstance(r, tuple)], results
    won = [r for r in results if isinstance(r, CallbackTask)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(lost) == 1, results
    task.refresh_from_db()
    assert task.state == TaskState.CALLING and task.agent_id == won[0].agent_id
    assert OutboundCall.objects.count() == 1
    assert OutboundCall.objects.get().agent_id == task.agent_id
