"""Quality inspection (质检) as data and pure functions (no Django): how a scorecard scores a
call, how calls are sampled, and the inspection's life (scored, appealed, decided).

A scorecard is a list of items, each worth some points; a fatal item (致命项: rudeness, a
wrong policy answer, a leak of a reporter's identity) is passed or failed, and failing one
sets the whole score to zero whatever the other items earned. The score is the points earned
out of the points possible, as 0-100.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class Item:
    key: str
    points: int  # what the item is worth; fatal items are worth 0 and only pass or fail
    fatal: bool = False


@dataclass(frozen=True)
class Score:
    total: float  # 0..100
    earned: int
    possible: int
    fatal_failed: tuple[str, ...]  # keys of the fatal items failed


class ScoringError(ValueError):
    pass


def score(items: Sequence[Item], marks: Mapping[str, int | bool]) -> Score:
    """``marks``: for each item its points (0..points) or, for a fatal item, True when passed.
    Every item must be marked: an inspection half filled in is not a score."""
    missing = [item.key for item in items if item.key not in marks]
    if missing:
        raise ScoringError(f"items not marked: {', '.join(missing)}")
    unknown = set(marks) - {item.key for item in items}
    if unknown:
        raise ScoringError(f"not on the scorecard: {', '.join(sorted(unknown))}")
    earned = possible = 0
    failed: list[str] = []
    for item in items:
        mark = marks[item.key]
        if item.fatal:
            if not isinstance(mark, bool):
                raise ScoringError(f"{item.key}: a fatal item is passed or failed")
            if not mark:
                failed.append(item.key)
            continue
        if isinstance(mark, bool) or not 0 <= mark <= item.points:
            raise ScoringError(f"{item.key}: between 0 and {item.points} points")
        earned += mark
        possible += item.points
    if failed:
        return Score(0.0, 0, possible, tuple(failed))
    total = round(100.0 * earned / possible, 1) if possible else 100.0
    return Score(total, earned, possible, ())


class SampleKind(StrEnum):
    RANDOM = "random"  # any answered call with a recording
    LONG = "long"  # talk longer than the rule's threshold
    COMPLAINT = "complaint"  # the call registered a complaint (投诉)
    UNSATISFIED = "unsatisfied"  # an order of the call was rated unsatisfied


def sample(candidates: Sequence[int], n: int, seed: str) -> list[int]:
    """``n`` of the candidate call ids, chosen at random but the same for the same ``seed``
    (rule, agent and week), so running the sampling again picks the same calls."""
    if n <= 0 or not candidates:
        return []
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    ordered = sorted(set(candidates))
    return sorted(rng.sample(ordered, min(n, len(ordered))))


class State(StrEnum):
    PENDING = "pending"  # sampled, waiting for an inspector
    SCORED = "scored"  # the agent sees the score and may appeal
    APPEALED = "appealed"  # the agent disagrees; a second inspector decides
    UPHELD = "upheld"  # the appeal was refused: the score stands
    REVISED = "revised"  # the appeal was accepted: scored again


class Step(StrEnum):
    SCORE = "score"
    APPEAL = "appeal"
    UPHOLD = "uphold"
    REVISE = "revise"


TRANSITIONS: Mapping[State, Mapping[Step, State]] = {
    State.PENDING: {Step.SCORE: State.SCORED},
    State.SCORED: {Step.APPEAL: State.APPEALED},
    State.APPEALED: {Step.UPHOLD: State.UPHELD, Step.REVISE: State.REVISED},
    State.UPHELD: {},
    State.REVISED: {},
}


class TransitionError(ValueError):
    pass


def apply(state: State, step: Step) -> State:
    try:
        return TRANSITIONS[state][step]
    except KeyError:
        raise TransitionError(f"{step} is not possible from {state}") from None
