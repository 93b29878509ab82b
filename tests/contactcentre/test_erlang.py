"""Erlang B/C against published and hand-computed values; Erlang A against its exact limits and
a seeded simulation of M/M/N+M."""

from __future__ import annotations

import collections
import heapq
import math
import random

import pytest

from hotline.contactcentre.acd.erlang import erlang_a_figures, erlang_b, erlang_c, erlang_c_figures


def test_erlang_b_table_values() -> None:
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 2.0) == pytest.approx(0.4)  # (2²/2) / (1 + 2 + 2)
    assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=1e-6)  # Erlang B tables
    assert erlang_b(0, 3.0) == 1.0


def test_erlang_c_published_worked_example() -> None:
    # The classic worked example: 100 calls in 30 minutes, 180 s handling time (10 Erlangs),
    # 11 agents, 20 s target: P(wait) 68.21 %, average speed of answer 122.8 s.
    figures = erlang_c_figures(11, 10.0, 180.0, 20.0)
    assert figures is not None
    assert figures.p_wait == pytest.approx(0.6821, abs=5e-5)
    assert figures.mean_wait_s == pytest.approx(122.8, abs=0.05)
    assert figures.service_level == pytest.approx(1 - 0.6821 * math.exp(-20 / 180), abs=1e-4)
    assert erlang_c_figures(12, 10.0, 180.0).p_wait == pytest.approx(0.4494, abs=5e-5)  # type: ignore[union-attr]


def test_erlang_c_by_hand_and_limits() -> None:
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # 2·0.2 / (2 − 1·0.8)
    assert erlang_c(1, 0.8) == pytest.approx(0.8)  # M/M/1: P(wait) = ρ
    assert erlang_c(5, 5.0) == 1.0
    assert erlang_c_figures(5, 5.0, 180.0) is None  # unstable: no figure
    assert erlang_c(3, 0.0) == 0.0


def test_erlang_a_tends_to_erlang_c_with_endless_patience() -> None:
    c = erlang_c_figures(11, 10.0, 180.0)
    a = erlang_a_figures(11, 10.0, 180.0, 1e9)
    assert c is not None
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-4)
    assert a.mean_wait_s == pytest.approx(c.mean_wait_s, rel=1e-4)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-4)
    assert a.p_abandon < 1e-5


def test_erlang_a_with_patience_equal_to_service_is_poisson() -> None:
    # θ = μ: every caller leaves at rate μ whether served or not, so the number in the system
    # is Poisson(A) like M/M/∞: P(wait) = P(n ≥ N), E[queue] = E[(n − N)+].
    load, agents = 6.0, 5
    pmf = [math.exp(-load) * load**n / math.factorial(n) for n in range(80)]
    a = erlang_a_figures(agents, load, 100.0, 100.0)
    assert a.p_wait == pytest.approx(sum(pmf[agents:]), rel=1e-9)
    queue = sum((n - agents) * p for n, p in enumerate(pmf) if n > agents)
    assert a.mean_wait_s == pytest.approx(queue / (load / 100.0), rel=1e-9)
    assert a.p_abandon == pytest.approx(queue / load, rel=1e-9)


def test_erlang_a_overloaded_is_finite() -> None:
    a = erlang_a_figures(9, 12.0, 200.0, 300.0)
    assert 0 < a.p_abandon < 1 and 0 < a.service_level < 1 and a.p_wait > 0.8


def _simulate(agents: int, lam: float, aht: float, patience: float, t: float,
              n: int, seed: int) -> tuple[float, float, float]:
    """FIFO M/M/N+M by events: (mean wait, share answered within t, share abandoned).
    Callers whose patience ran out are dropped from the head of the line when an agent frees
    up (lazily: the order of service does not change)."""
    rng = random.Random(seed)
    ends: list[float] = []  # busy agents' completion times
    line: collections.deque[tuple[float, float]] = collections.deque()  # (arrival, deadline)
    waits, within, abandoned = 0.0, 0, 0

    def free_agent(now: float) -> None:
        nonlocal waits, within, abandoned
        while line and line[0][1] <= now:
            arrival, deadline = line.popleft()
            abandoned += 1
            waits += deadline - arrival
        if line:
            arrival, _ = line.popleft()
            waits += now - arrival
            within += now - arrival <= t
            heapq.heappush(ends, now + rng.expovariate(1 / aht))

    clock = 0.0
    for _ in range(n):
        clock += rng.expovariate(lam)
        while ends and ends[0] <= clock:
            free_agent(heapq.heappop(ends))
        if len(ends) < agents:
            within += 1
            heapq.heappush(ends, clock + rng.expovariate(1 / aht))
        else:
            line.append((clock, clock + rng.expovariate(1 / patience)))
    while line:  # the end: let the rest be served or leave
        free_agent(heapq.heappop(ends))
    return waits / n, within / n, abandoned / n


def test_erlang_a_matches_a_simulation() -> None:
    wait, sl, abandon = _simulate(4, 4.5 / 100.0, 100.0, 200.0, 20.0, 120_000, seed=7)
    a = erlang_a_figures(4, 4.5, 100.0, 200.0, 20.0)
    assert wait == pytest.approx(a.mean_wait_s, rel=0.05)
    assert sl == pytest.approx(a.service_level, abs=0.015)
    assert abandon == pytest.approx(a.p_abandon, abs=0.01)
