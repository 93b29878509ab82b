"""Erlang B, Erlang C (M/M/N) and Erlang A (M/M/N+M, Palm's model with exponential patience).

Used to staff queues and by bench/acd.py to compare the simulated queue with theory. Times in
seconds; ``load`` is the offered load in Erlangs (arrival rate × mean handling time).

Definitions (the same ones the benchmark measures):
- ``p_wait``: share of callers who find every agent busy.
- ``mean_wait_s``: mean time in queue over all callers (0 for those served at once; until they
  hang up for those who abandon).
- ``service_level``: share of all callers answered within ``t`` seconds (abandoned callers
  count against it).
- ``p_abandon``: share of callers who hang up before an agent answers (0 in Erlang C).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class QueueFigures:
    p_wait: float
    mean_wait_s: float
    service_level: float
    p_abandon: float
    occupancy: float  # mean share of agents busy


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of M/M/N/N (the stable recursion, no factorials)."""
    if agents < 0 or load < 0:
        raise ValueError("agents and load must not be negative")
    b = 1.0
    for n in range(1, agents + 1):
        b = load * b / (n + load * b)
    return b


def erlang_c(agents: int, load: float) -> float:
    """Probability of waiting in M/M/N; 1.0 when the load reaches the number of agents."""
    if agents <= 0:
        return 1.0
    if load <= 0:
        return 0.0
    if load >= agents:
        return 1.0
    b = erlang_b(agents, load)
    return agents * b / (agents - load * (1.0 - b))


def erlang_c_figures(agents: int, load: float, aht_s: float, t_s: float = 20.0) -> QueueFigures | None:
    """Erlang C figures; None when the queue is unstable (load >= agents): the wait grows
    without bound, so no figure would mean anything."""
    if aht_s <= 0:
        raise ValueError("aht_s must be positive")
    if load >= agents:
        return None
    c = erlang_c(agents, load)
    spare = agents - load
    return QueueFigures(
        p_wait=c,
        mean_wait_s=c * aht_s / spare,
        service_level=1.0 - c * math.exp(-spare * t_s / aht_s),
        p_abandon=0.0,
        occupancy=load / agents,
    )


def _poisson_weights(rate_t: float, tail: float = 1e-12) -> list[float]:
    """Poisson(rate_t) probabilities for 0, 1, ... until the rest is below ``tail``."""
    weights: list[float] = []
    total = 0.0
    m = 0
    while True:
        log_p = -rate_t + (m * math.log(rate_t) if rate_t > 0 else 0.0) - math.lgamma(m + 1)
        p = math.exp(log_p) if rate_t > 0 or m == 0 else 0.0
        weights.append(p)
        total += p
        if (total >= 1.0 - tail and m > rate_t) or m > rate_t + 50 * math.sqrt(rate_t + 1) + 50:
            return weights
        m += 1


def erlang_a_figures(agents: int, load: float, aht_s: float, patience_s: float,
                     t_s: float = 20.0) -> QueueFigures:
    """Erlang A (M/M/N+M): Poisson arrivals, exponential service and exponential patience with
    mean ``patience_s``. Always stable, whatever the load.

    The number of callers in the system is a birth-death chain (birth λ, death
    min(n, N)·μ + max(n − N, 0)·θ), solved exactly up to where its terms vanish. The service
    level needs the distribution of the wait of a caller who queues behind k others: each
    step forward comes at rate N·μ + j·θ (a served or abandoning caller ahead), and the caller
    abandons at rate θ; P(answered within t) is computed by uniformisation.
    """
    if agents <= 0 or aht_s <= 0 or patience_s <= 0:
        raise ValueError("agents, aht_s and patience_s must be positive")
    if load <= 0:
        return QueueFigures(0.0, 0.0, 1.0, 0.0, 0.0)
    mu, theta = 1.0 / aht_s, 1.0 / patience_s
    lam = load * mu
    # Unnormalised stationary probabilities, scaled so the largest stays near 1.
    weights = [1.0]
    for n in range(1, agents + 1):
        weights.append(weights[-1] * load / n)
        if weights[-1] > 1e200:
            weights = [w / 1e200 for w in weights]
    n = agents
    peak = max(weights)
    while True:
        n += 1
        ratio = lam / (agents * mu + (n - agents) * theta)
        weights.append(weights[-1] * ratio)
        if weights[-1] > 1e200:
            weights = [w / 1e200 for w in weights]
            peak /= 1e200
        peak = max(peak, weights[-1])
        if ratio < 1.0 and weights[-1] < 1e-16 * peak:
            break
        if n > agents + 1_000_000:
            raise ValueError("the queue does not settle: patience too long for the load")
    total = sum(weights)
    pi = [w / total for w in weights]
    p_wait = sum(pi[agents:])
    queue_len = sum((k - agents) * p for k, p in enumerate(pi) if k > agents)
    busy = sum(min(k, agents) * p for k, p in enumerate(pi))
    # Answered within t for a caller who arrives to find k = n - N callers already queued.
    top = len(pi) - agents  # queue lengths 0 .. top-1
    rates = [agents * mu + j * theta for j in range(top)]
    uniform = rates[-1] + theta
    answered_by_t = [0.0] * top
    reached = [0.0] * top  # P(answered within m uniformised steps | j ahead)
    for m_weight in _poisson_weights(uniform * t_s):
        for j in range(top):
            answered_by_t[j] += m_weight * reached[j]
        new = [0.0] * top
        for j in range(top):
            ahead = 1.0 if j == 0 else reached[j - 1]
            new[j] = rates[j] / uniform * ahead + (1.0 - (rates[j] + theta) / uniform) * reached[j]
        reached = new
    service_level = sum(pi[:agents]) + sum(
        pi[agents + j] * answered_by_t[j] for j in range(top)
    )
    return QueueFigures(
        p_wait=p_wait,
        mean_wait_s=queue_len / lam,
        service_level=service_level,
        p_abandon=theta * queue_len / lam,
        occupancy=busy / agents,
    )
