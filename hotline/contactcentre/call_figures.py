"""The definitions of the call figures, in one place for the live wallboard
(``hotline.contactcentre.stats``) and the call statistics (``hotline.insight.call_rollups``),
so that a service level or an average speed of answer means the same on both. Pure: no Django.

- Short abandons: a caller who hangs up within ``SHORT_ABANDON_S`` seconds (inclusive) of
  joining the queue has misdialled or was never really waiting; such calls count in neither
  the answered nor the abandoned figures, and are taken off the offered calls for the rates.
- Connection rate (接通率, GB/T 33358-2016 呼叫中心服务质量要求): answered / (offered - short
  abandons), over 24 hours; the standard asks for at least ``CONNECTION_TARGET`` (95 %).
- 15-second answer rate: answered within ``FAST_ANSWER_S`` seconds / (offered - short abandons).
- Service level: answered within the queue's target / (answered + abandoned after the short
  limit) -- the wallboard's definition.
- Average speed of answer (ASA): mean wait of the answered calls.
"""

from __future__ import annotations

SHORT_ABANDON_S = 5.0
CONNECTION_TARGET = 0.95
FAST_ANSWER_S = 15.0


def share(part: float, whole: float) -> float | None:
    """part / whole, or None when there is nothing to divide (no calls is not 0 %)."""
    return part / whole if whole > 0 else None


def mean(total: float, count: int) -> float | None:
    return total / count if count > 0 else None


def connection_rate(answered: int, offered: int, short_abandoned: int) -> float | None:
    return share(answered, offered - short_abandoned)


def fast_answer_rate(answered_fast: int, offered: int, short_abandoned: int) -> float | None:
    return share(answered_fast, offered - short_abandoned)


def service_level(answered_in_target: int, answered: int, abandoned: int) -> float | None:
    """``abandoned`` counts only the calls abandoned after ``SHORT_ABANDON_S``."""
    return share(answered_in_target, answered + abandoned)


def abandon_rate(answered: int, abandoned: int) -> float | None:
    return share(abandoned, answered + abandoned)


def is_short_abandon(wait_s: float) -> bool:
    return wait_s <= SHORT_ABANDON_S
