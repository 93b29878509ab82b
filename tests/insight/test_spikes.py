"""The spike detector on its own (no database)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from hotline.insight.spikes import binomial_tail, find_spikes, poisson_tail, spike_of

if TYPE_CHECKING:
    from collections.abc import Hashable


def test_poisson_tail_matches_the_definition() -> None:
    lam = 3.0
    pmf = [np.exp(-lam) * lam ** k / np.prod(range(1, k + 1)) for k in range(8)]
    assert poisson_tail(8, lam) == pytest.approx(1 - sum(pmf), rel=1e-9)
    assert poisson_tail(0, lam) == 1.0
    assert poisson_tail(3, 0.0) == 0.0


def test_binomial_tail_matches_the_definition() -> None:
    from math import comb

    n, p = 12, 0.2
    assert binomial_tail(5, n, p) == pytest.approx(
        sum(comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(5, n + 1)), rel=1e-9)
    assert binomial_tail(0, n, p) == 1.0 and binomial_tail(13, n, p) == 0.0


def test_planted_spike_is_found_with_its_ratio() -> None:
    rng = np.random.default_rng(7)
    quiet = rng.poisson(2.0, size=28).tolist()
    window = [2, 3, 2, 14, 15, 16, 12]  # a sudden run of water-outage calls
    spikes = find_spikes({"停水 · 鼓楼区": quiet + window}, 7)
    assert len(spikes) == 1
    spike = spikes[0]
    assert spike.key == "停水 · 鼓楼区" and spike.current == sum(window)
    assert spike.expected == pytest.approx(7 * sum(quiet) / 28)
    assert spike.ratio > 3 and spike.z > 5 and spike.p_value < 1e-8


def test_quiet_series_raise_no_spike() -> None:
    rng = np.random.default_rng(12345)
    series: dict[Hashable, list[int]] = {k: rng.poisson(lam, size=35).tolist()
              for k, lam in enumerate([0.2, 0.5, 1, 2, 3, 5, 10, 20] * 50)}
    assert find_spikes(series, 7) == []
    assert find_spikes(series, 1) == []


def test_overdispersed_baseline_needs_a_bigger_jump() -> None:
    steady = [3] * 28
    bursty = [0, 0, 0, 21, 0, 0, 0] * 4  # same mean, a weekly burst
    assert spike_of("a", 18, steady, 1) is not None
    assert spike_of("b", 18, bursty, 1) is None
    assert poisson_tail(18, 3.0) < 1e-7  # a Poisson test alone would flag both


def test_small_counts_are_not_news() -> None:
    assert spike_of("new", 4, [0] * 28, 7) is None  # below the minimum count
    found = spike_of("new", 8, [0] * 28, 1)  # a brand-new matter, 8 calls in a day
    assert found is not None and found.expected == pytest.approx(0.1)


def test_ratio_below_two_is_not_a_spike_even_if_significant() -> None:
    assert spike_of("big", 150, [100] * 28, 1) is None
    assert spike_of("big", 260, [100] * 28, 1) is not None


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        find_spikes({"a": [1, 2, 3]}, 3)
    with pytest.raises(ValueError):
        find_spikes({"a": [1, 2, 3]}, 0)
    with pytest.raises(ValueError):
        spike_of("a", 5, [1], 0)


def test_spikes_sorted_by_significance() -> None:
    base = [1] * 28
    found = find_spikes({"x": [*base, 10], "y": [*base, 30]}, 1)
    assert [s.key for s in found] == ["y", "x"]
    assert found[0].as_dict()["current"] == 30
