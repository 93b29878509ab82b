"""Assessment (考核) as data: the three rates (响应率/解决率/满意率), the weighted score and the
monthly ranking (排名), from per-order facts and one version of the rules.

No framework imports on purpose: the Django side (``assessment_facts``) reads what an order's
history says into ``OrderFact``s; everything that is a *judgement* about those facts (does the
order count, was the response timely, how much is "basically satisfied" worth, which weights
apply to a utility) is here, driven by ``Rules``, and tested rule by rule.

Definitions (docs/assessment.md says the same for people):
- An order counts for the unit holding it (the active lead assignment) in the month it was
  dispatched to that unit, unless it was refused (不予受理) or merged (并单), is of an excluded
  type, or an appeal of the unit was accepted by the centre.
- Response (响应): the unit signed for it (签收) or contacted the citizen (an outbound contact
  by the unit's staff), whichever ``response_events`` lists, within ``response_hours`` working
  hours of the dispatch (``urgent_response_hours`` clock hours for urgent orders).
- Resolution (解决): among counted orders with a call-back answer (回访), those the citizen said
  were resolved. An order not yet called back is in no denominator but the response rate's.
- Satisfaction (满意): among counted orders with a satisfaction answer, the mean of the points
  ``satisfaction_points`` gives each answer (满意 1.0, 基本满意 0.8, 不满意 0 by default).
- Score: 100 × the weighted mean of the rates, with the weights of the unit's kind (district,
  bureau, utility); a rate without any order in its denominator is left out and the weights of
  the others are scaled up, so a unit is not punished for having had no call back yet.
- Ranking: per ranking group (departments, districts), by score; units with fewer than
  ``min_orders`` counted orders are listed without a rank. Equal scores share a rank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class AssessedKind(StrEnum):
    """What a unit is assessed as: the weights differ per kind."""

    DISTRICT = "district"  # a district (its sub-centre and streets together), or a street
    BUREAU = "bureau"  # a government department (委办局)
    UTILITY = "utility"  # a public utility (供水, 供电, 燃气, 公交)


class RateName(StrEnum):
    RESPONSE = "response"
    RESOLUTION = "resolution"
    SATISFACTION = "satisfaction"


class ResponseEvent(StrEnum):
    SIGN = "sign"  # 签收
    CONTACT = "contact"  # the unit's first outbound contact with the citizen


class Exclusion(StrEnum):
    """Why an order does not count (empty: it counts)."""

    STATE = "state"  # refused or merged
    TYPE = "type"  # an order type the rules leave out
    APPEAL = "appeal"  # the centre accepted the unit's appeal


class RulesError(ValueError):
    """A rules definition that cannot be applied (the message says which part)."""


@dataclass(frozen=True)
class Weights:
    response: float
    resolution: float
    satisfaction: float

    def of(self, rate: RateName) -> float:
        return float(getattr(self, rate.value))


DEFAULT_DEFINITION: dict[str, Any] = {
    # The published example (北京接诉即办: 响应率 30%, 解决率 35%, 满意率 35%) for every kind;
    # utilities are weighted towards resolution, districts towards satisfaction.
    "weights": {
        "district": {"response": 0.30, "resolution": 0.35, "satisfaction": 0.35},
        "bureau": {"response": 0.30, "resolution": 0.35, "satisfaction": 0.35},
        "utility": {"response": 0.20, "resolution": 0.45, "satisfaction": 0.35},
    },
    "response_events": ["sign", "contact"],
    "response_hours": 8,  # working hours: one working day
    "urgent_response_hours": 2,  # clock hours
    "satisfaction_points": {"satisfied": 1.0, "basic": 0.8, "unsatisfied": 0.0},
    "excluded_states": ["rejected", "merged"],
    "excluded_types": [],
    "min_orders": 5,
}


@dataclass(frozen=True)
class Rules:
    version: str
    weights: Mapping[str, Weights]
    response_events: frozenset[ResponseEvent]
    response_hours: float
    urgent_response_hours: float
    satisfaction_points: Mapping[str, float]
    excluded_states: frozenset[str] = frozenset()
    excluded_types: frozenset[str] = frozenset()
    min_orders: int = 1

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], version: str = "") -> Rules:
        """Rules from their stored definition; RulesError names the first wrong part."""
        if not isinstance(data, Mapping):
            raise RulesError("the definition must be an object")
        weights: dict[str, Weights] = {}
        raw_weights = data.get("weights")
        if not isinstance(raw_weights, Mapping) or not raw_weights:
            raise RulesError("weights: give the weights of each kind of unit")
        for kind, values in raw_weights.items():
            if kind not in AssessedKind.__members__.values():
                raise RulesError(f"weights: unknown kind of unit {kind!r}")
            try:
                w = Weights(**{r.value: float(values[r.value]) for r in RateName})
            except (KeyError, TypeError, ValueError):
                raise RulesError(f"weights.{kind}: give response, resolution and satisfaction "
                                 "as numbers") from None
            parts = [w.of(r) for r in RateName]
            if any(p < 0 for p in parts) or abs(sum(parts) - 1.0) > 1e-6:
                raise RulesError(f"weights.{kind}: each at least 0, together 1")
            weights[kind] = w
        missing = [k.value for k in AssessedKind if k.value not in weights]
        if missing:
            raise RulesError(f"weights: missing {', '.join(missing)}")
        try:
            events = frozenset(ResponseEvent(e) for e in data.get("response_events", ()))
        except ValueError:
            raise RulesError("response_events: each is sign or contact") from None
        if not events:
            raise RulesError("response_events: name at least one event that proves a response")
        points_raw = data.get("satisfaction_points")
        if not isinstance(points_raw, Mapping) or not points_raw:
            raise RulesError("satisfaction_points: give the points of each answer")
        points: dict[str, float] = {}
        for answer, value in points_raw.items():
            try:
                points[str(answer)] = float(value)
            except (TypeError, ValueError):
                raise RulesError(f"satisfaction_points.{answer}: a number") from None
            if not 0.0 <= points[str(answer)] <= 1.0:
                raise RulesError(f"satisfaction_points.{answer}: between 0 and 1")
        try:
            hours = float(data["response_hours"])
            urgent_hours = float(data["urgent_response_hours"])
            min_orders = int(data.get("min_orders", 1))
        except (KeyError, TypeError, ValueError):
            raise RulesError("response_hours, urgent_response_hours and min_orders are "
                             "numbers") from None
        if hours <= 0 or urgent_hours <= 0 or min_orders < 1:
            raise RulesError("response hours are positive and min_orders at least 1")
        return cls(
            version=version, weights=weights, response_events=events, response_hours=hours,
            urgent_response_hours=urgent_hours, satisfaction_points=points,
            excluded_states=frozenset(str(s) for s in data.get("excluded_states", ())),
            excluded_types=frozenset(str(t) for t in data.get("excluded_types", ())),
            min_orders=min_orders,
        )


DEFAULT_RULES = Rules.from_dict(DEFAULT_DEFINITION, version="default")


# --- one order -------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrderFact:
    """What an order's history says about one unit's handling of it, without judgement."""

    order_id: int
    unit_id: int
    state: str
    type: str
    urgent: bool = False
    # Hours from the dispatch to the unit's sign-for / first outbound contact: working hours
    # for a normal order, clock hours for an urgent one; None when it never happened.
    sign_hours: float | None = None
    contact_hours: float | None = None
    resolved: bool | None = None  # the call-back answer; None: not asked yet
    satisfaction: str = ""  # the call-back answer (satisfied, basic, unsatisfied); "": none
    appeal_accepted: bool = False


@dataclass(frozen=True)
class Verdict:
    """How one order enters a unit's rates. ``lowered`` lists the rates it brought down."""

    excluded: str = ""  # an Exclusion value, "" when the order counts
    responded: bool | None = None
    resolved: bool | None = None
    satisfaction: float | None = None
    lowered: tuple[str, ...] = ()

    @property
    def counted(self) -> bool:
        return not self.excluded


def response_hours(rules: Rules, fact: OrderFact) -> float | None:
    """The earliest of the events the rules accept as a response, in hours after dispatch."""
    found = []
    if ResponseEvent.SIGN in rules.response_events and fact.sign_hours is not None:
        found.append(fact.sign_hours)
    if ResponseEvent.CONTACT in rules.response_events and fact.contact_hours is not None:
        found.append(fact.contact_hours)
    return min(found) if found else None


def judge(rules: Rules, fact: OrderFact) -> Verdict:
    if fact.state in rules.excluded_states:
        return Verdict(excluded=Exclusion.STATE)
    if fact.type in rules.excluded_types:
        return Verdict(excluded=Exclusion.TYPE)
    if fact.appeal_accepted:
        return Verdict(excluded=Exclusion.APPEAL)
    limit = rules.urgent_response_hours if fact.urgent else rules.response_hours
    hours = response_hours(rules, fact)
    responded = hours is not None and hours <= limit
    points = rules.satisfaction_points.get(fact.satisfaction) if fact.satisfaction else None
    lowered = []
    if not responded:
        lowered.append(RateName.RESPONSE.value)
    if fact.resolved is False:
        lowered.append(RateName.RESOLUTION.value)
    if points is not None and points < 1.0:
        lowered.append(RateName.SATISFACTION.value)
    return Verdict(responded=responded, resolved=fact.resolved, satisfaction=points,
                   lowered=tuple(lowered))


# --- one unit --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    """A unit's numerators and denominators."""

    counted: int = 0  # orders that count: the response rate's denominator
    responded: int = 0
    answered: int = 0  # counted orders with a resolved/unresolved answer
    resolved: int = 0
    rated: int = 0  # counted orders with a satisfaction answer the rules know
    points: float = 0.0  # the sum of their satisfaction points
    excluded: int = 0  # orders left out (refused, merged, excluded type, accepted appeal)

    def rate(self, name: RateName) -> float | None:
        numerator, denominator = {
            RateName.RESPONSE: (self.responded, self.counted),
            RateName.RESOLUTION: (self.resolved, self.answered),
            RateName.SATISFACTION: (self.points, self.rated),
        }[name]
        return numerator / denominator if denominator else None


def tally(verdicts: Iterable[Verdict]) -> Tally:
    counted = responded = answered = resolved = rated = excluded = 0
    points = 0.0
    for v in verdicts:
        if not v.counted:
            excluded += 1
            continue
        counted += 1
        responded += bool(v.responded)
        if v.resolved is not None:
            answered += 1
            resolved += v.resolved
        if v.satisfaction is not None:
            rated += 1
            points += v.satisfaction
    return Tally(counted, responded, answered, resolved, rated, points, excluded)


def score(rules: Rules, kind: str, counts: Tally) -> float | None:
    """0..100: the weighted mean of the rates the unit has (None when it has none)."""
    weights = rules.weights.get(kind)
    if weights is None:
        raise RulesError(f"no weights for kind {kind!r}")
    total = weight = 0.0
    for name in RateName:
        value = counts.rate(name)
        if value is not None and weights.of(name) > 0:
            total += weights.of(name) * value
            weight += weights.of(name)
    return round(100.0 * total / weight, 2) if weight else None


# --- the ranking -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One assessed unit of a month: which ranking it is in, what kind, its counts."""

    unit_id: int
    group: str  # the ranking it belongs to ("departments", "districts", "streets:<district>")
    kind: str  # an AssessedKind value: its weights
    counts: Tally


@dataclass(frozen=True)
class Previous:
    rank: int | None
    score: float | None


@dataclass(frozen=True)
class Standing:
    unit_id: int
    group: str
    kind: str
    counts: Tally
    score: float | None
    rank: int | None  # None: too few orders (or no rate at all) to be ranked
    previous: Previous | None = None
    ranked_in_group: int = 0  # how many units of the group have a rank
    rates: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def rank_change(self) -> int | None:
        """Places gained since last month (positive: moved up ↑)."""
        if self.rank is None or self.previous is None or self.previous.rank is None:
            return None
        return self.previous.rank - self.rank

    @property
    def score_change(self) -> float | None:
        if self.score is None or self.previous is None or self.previous.score is None:
            return None
        return round(self.score - self.previous.score, 2)


def rank(rules: Rules, entries: Sequence[Entry],
         previous: Mapping[int, Previous] | None = None) -> list[Standing]:
    """Every entry's score and rank within its group; ranked units first, best first."""
    previous = previous or {}
    scored = [(e, score(rules, e.kind, e.counts)) for e in entries]
    by_group: dict[str, list[tuple[Entry, float | None]]] = {}
    for pair in scored:
        by_group.setdefault(pair[0].group, []).append(pair)
    result: list[Standing] = []
    for group in sorted(by_group):
        members = by_group[group]
        eligible = [(e, s) for e, s in members
                    if s is not None and e.counts.counted >= rules.min_orders]
        # Best score first; on a tie the unit with more orders first (its rate is surer), then
        # by id so the order is stable. Equal scores share a rank (1, 1, 3).
        eligible.sort(key=lambda p: (-(p[1] or 0.0), -p[0].counts.counted, p[0].unit_id))
        ranks: dict[int, int] = {}
        last_score: float | None = None
        last_rank = 0
        for position, (entry, value) in enumerate(eligible, start=1):
            if value != last_score:
                last_rank, last_score = position, value
            ranks[entry.unit_id] = last_rank
        unranked = sorted((p for p in members if p[0].unit_id not in ranks),
                          key=lambda p: (-(p[1] if p[1] is not None else -1.0), p[0].unit_id))
        for entry, entry_score in [*eligible, *unranked]:
            result.append(Standing(
                unit_id=entry.unit_id, group=group, kind=entry.kind, counts=entry.counts,
                score=entry_score, rank=ranks.get(entry.unit_id), previous=previous.get(entry.unit_id),
                ranked_in_group=len(eligible),
                rates={r.value: entry.counts.rate(r) for r in RateName},
            ))
    return result


def month_before(month: str) -> str:
    """'2026-01' -> '2025-12'."""
    year, number = parse_month(month)
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def parse_month(month: str) -> tuple[int, int]:
    """(year, month) of 'YYYY-MM'; ValueError otherwise."""
    if (not isinstance(month, str) or len(month) != 7 or month[4] != "-"
            or not (month[:4].isdigit() and month[5:].isdigit())):
        raise ValueError("a month is written YYYY-MM")
    year, number = int(month[:4]), int(month[5:])
    if not (2000 <= year <= 2999 and 1 <= number <= 12):
        raise ValueError("a month is written YYYY-MM")
    return year, number
