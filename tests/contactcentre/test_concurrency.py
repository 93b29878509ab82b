"""Two calls never ring the same agent: routers in parallel threads, each with its own
database connection, race for the same idle agents. On PostgreSQL they truly run at once; the
conditional UPDATE lets exactly one claim win. On SQLite (the test database is a file, with a
busy timeout) the writers take turns, and the same claim must still win exactly once."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from hotline.contactcentre import services
from hotline.contactcentre.models import AgentSkill, AgentStatus, CallOutcome, QueuedCall, State, StateChange
from hotline.core.roles import Role
from hotline.directory.models import User
from tests.desk.conftest import at

pytestmark = pytest.mark.django_db(transaction=True)


def _race(workers: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = workers[i]()
        except BaseException as exc:  # reported below; a thread must not swallow failures
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def test_many_offers_for_one_agent_exactly_one_rings(desk: Any) -> None:
    services.do_sign_in(desk.agent, now=at(0))
    services.do_set_state(desk.agent, "ready", now=at(0))
    calls = [services.do_enqueue_call(desk.general, call_ref=f"c{i}", now=at(1)) for i in range(8)]
    for _round in range(5):
        results = _race([functools.partial(services.do_offer_call, c, desk.agent.pk, at(2))
                         for c in calls])
        assert results.count(True) == 1, results
        winner = calls[results.index(True)]
        status = AgentStatus.objects.get(pk=desk.agent.pk)
        assert (status.state, status.call_id) == (State.RINGING, winner.pk)
        assert QueuedCall.objects.filter(outcome=CallOutcome.RINGING).count() == 1
        assert StateChange.objects.filter(agent=desk.agent, action="offer").count() == _round + 1
        services.do_call_abandoned(winner.pk, at(3))  # free the agent for the next round
        calls.remove(winner)
        calls.append(services.do_enqueue_call(desk.general, call_ref=f"n{_round}", now=at(3)))


def test_parallel_routers_never_double_book(desk: Any) -> None:
    agents = []
    for i in range(6):
        user = User.objects.create_user(username=f"agent{i}", password="pw", role=Role.AGENT,
                                        unit=desk.centre)
        AgentSkill.objects.create(agent=user, skill=desk.cmn, level=5)
        services.do_sign_in(user, now=at(0))
        services.do_set_state(user, "ready", now=at(i))
        agents.append(user)
    for i in range(10):
        services.do_enqueue_call(desk.general, call_ref=f"c{i}", now=at(10 + i))
    results = _race([lambda: services.do_route(at(30)) for _ in range(4)])
    offers = [o for r in results for o in r.offers]
    assert len(offers) == 6  # six agents, ten calls: every agent rings once, nobody twice
    assert len({o.agent for o in offers}) == 6 and len({o.call for o in offers}) == 6
    ringing = QueuedCall.objects.filter(outcome=CallOutcome.RINGING)
    assert sorted(ringing.values_list("agent_id", flat=True)) == sorted(a.pk for a in agents)
    # FIFO held across the routers: the six oldest calls ring.
    assert sorted(ringing.values_list("call_ref", flat=True)) == [f"c{i}" for i in range(6)]
    assert StateChange.objects.filter(action="offer").count() == 6
