"""The assessment's pure scoring (hotline.insight.scoring), rule by rule, and the appeal state
machine pair by pair. No database."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from hotline.insight import appeal_states as ap
from hotline.insight.scoring import (
    DEFAULT_DEFINITION,
    DEFAULT_RULES,
    Entry,
    Exclusion,
    OrderFact,
    Previous,
    RateName,
    Rules,
    RulesError,
    Tally,
    judge,
    month_before,
    parse_month,
    rank,
    score,
    tally,
)


def fact(**kw: Any) -> OrderFact:
    base: dict[str, Any] = {"order_id": 1, "unit_id": 10, "state": "closed",
                            "type": "complaint", "sign_hours": 1.0}
    base.update(kw)
    return OrderFact(**base)


def rules(**changes: Any) -> Rules:
    data = copy.deepcopy(DEFAULT_DEFINITION)
    data.update(changes)
    return Rules.from_dict(data, version="t")


# --- which orders count ----------------------------------------------------------------------

@pytest.mark.parametrize("state", ["rejected", "merged"])
def test_refused_and_merged_orders_do_not_count(state: str) -> None:
    v = judge(DEFAULT_RULES, fact(state=state, sign_hours=None))
    assert v.excluded == Exclusion.STATE and not v.counted and v.lowered == ()


def test_an_excluded_type_does_not_count_when_the_rules_say_so() -> None:
    assert judge(DEFAULT_RULES, fact(type="praise")).counted
    v = judge(rules(excluded_types=["praise"]), fact(type="praise"))
    assert v.excluded == Exclusion.TYPE


def test_an_accepted_appeal_excludes_the_order() -> None:
    v = judge(DEFAULT_RULES, fact(sign_hours=None, resolved=False, appeal_accepted=True))
    assert v.excluded == Exclusion.APPEAL and v.lowered == ()


def test_a_report_of_wrongdoing_counts_like_any_order() -> None:
    assert judge(DEFAULT_RULES, fact(type="report")).counted


# --- response --------------------------------------------------------------------------------

def test_signing_within_the_working_hours_is_a_response() -> None:
    assert judge(DEFAULT_RULES, fact(sign_hours=8.0)).responded is True
    late = judge(DEFAULT_RULES, fact(sign_hours=8.5))
    assert late.responded is False and late.lowered == ("response",)


def test_never_signed_nor_contacted_is_no_response() -> None:
    assert judge(DEFAULT_RULES, fact(sign_hours=None)).responded is False


def test_contacting_the_citizen_in_time_counts_when_the_rules_accept_contact() -> None:
    late_sign_early_call = fact(sign_hours=30.0, contact_hours=2.0)
    assert judge(DEFAULT_RULES, late_sign_early_call).responded is True
    signing_only = rules(response_events=["sign"])
    assert judge(signing_only, late_sign_early_call).responded is False
    contact_only = rules(response_events=["contact"])
    assert judge(contact_only, fact(sign_hours=1.0)).responded is False


def test_urgent_orders_have_the_urgent_limit() -> None:
    assert judge(DEFAULT_RULES, fact(urgent=True, sign_hours=1.5)).responded is True
    assert judge(DEFAULT_RULES, fact(urgent=True, sign_hours=3.0)).responded is False
    assert judge(DEFAULT_RULES, fact(urgent=False, sign_hours=3.0)).responded is True


# --- resolution and satisfaction -------------------------------------------------------------

def test_the_call_back_answer_decides_resolution() -> None:
    assert judge(DEFAULT_RULES, fact(resolved=True)).resolved is True
    unresolved = judge(DEFAULT_RULES, fact(resolved=False))
    assert unresolved.resolved is False and unresolved.lowered == ("resolution",)
    assert judge(DEFAULT_RULES, fact(resolved=None)).resolved is None


@pytest.mark.parametrize(("answer", "points", "lowers"), [
    ("satisfied", 1.0, False), ("basic", 0.8, True), ("unsatisfied", 0.0, True), ("", None, False),
])
def test_satisfaction_answers_map_to_points(answer: str, points: float | None,
                                            lowers: bool) -> None:
    v = judge(DEFAULT_RULES, fact(satisfaction=answer))
    assert v.satisfaction == points
    assert ("satisfaction" in v.lowered) is lowers


def test_the_mapping_is_data() -> None:
    generous = rules(satisfaction_points={"satisfied": 1.0, "basic": 1.0, "unsatisfied": 0.0})
    assert judge(generous, fact(satisfaction="basic")).lowered == ()


def test_an_answer_the_rules_do_not_know_is_not_rated() -> None:
    assert judge(DEFAULT_RULES, fact(satisfaction="whatever")).satisfaction is None


# --- tallies, rates and the score ------------------------------------------------------------

def test_the_tally_counts_numerators_and_denominators() -> None:
    verdicts = [judge(DEFAULT_RULES, f) for f in (
        fact(sign_hours=1, resolved=True, satisfaction="satisfied"),
        fact(sign_hours=20, resolved=False, satisfaction="unsatisfied"),
        fact(sign_hours=2, resolved=True, satisfaction="basic"),
        fact(sign_hours=2),  # not called back yet
        fact(state="merged"),
    )]
    t = tally(verdicts)
    assert (t.counted, t.responded, t.answered, t.resolved, t.rated, t.excluded) == (
        4, 3, 3, 2, 3, 1)
    assert t.points == pytest.approx(1.8)
    assert t.rate(RateName.RESPONSE) == pytest.approx(0.75)
    assert t.rate(RateName.RESOLUTION) == pytest.approx(2 / 3)
    assert t.rate(RateName.SATISFACTION) == pytest.approx(0.6)


def test_the_score_weights_the_rates_by_the_kind_of_unit() -> None:
    t = Tally(counted=10, responded=10, answered=10, resolved=5, rated=10, points=10.0)
    # bureau 30/35/35: 0.3*1 + 0.35*0.5 + 0.35*1
    assert score(DEFAULT_RULES, "bureau", t) == pytest.approx(82.5)
    # utility 20/45/35: 0.2*1 + 0.45*0.5 + 0.35*1
    assert score(DEFAULT_RULES, "utility", t) == pytest.approx(77.5)


def test_a_rate_without_a_denominator_is_left_out_and_the_others_scaled() -> None:
    t = Tally(counted=4, responded=3)  # nobody called back yet
    assert score(DEFAULT_RULES, "district", t) == pytest.approx(75.0)
    assert score(DEFAULT_RULES, "district", Tally()) is None


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(RulesError):
        score(DEFAULT_RULES, "embassy", Tally(counted=1, responded=1))


# --- the ranking -----------------------------------------------------------------------------

def full(counted: int, responded: int) -> Tally:
    return Tally(counted=counted, responded=responded)


def test_ranking_by_score_within_each_group_with_shared_ranks() -> None:
    entries = [
        Entry(1, "departments", "bureau", full(10, 9)),
        Entry(2, "departments", "bureau", full(10, 10)),
        Entry(3, "departments", "bureau", full(20, 18)),  # same 90 as unit 1, more orders
        Entry(4, "districts", "district", full(10, 5)),
    ]
    by_unit = {s.unit_id: s for s in rank(DEFAULT_RULES, entries)}
    assert by_unit[2].rank == 1
    assert by_unit[3].rank == 2 and by_unit[1].rank == 2  # equal scores share a rank
    assert by_unit[4].rank == 1 and by_unit[4].ranked_in_group == 1
    assert [s.unit_id for s in rank(DEFAULT_RULES, entries) if s.group == "departments"] == [
        2, 3, 1]


def test_too_few_orders_are_listed_without_a_rank() -> None:
    entries = [Entry(1, "departments", "bureau", full(4, 4)),
               Entry(2, "departments", "bureau", full(5, 1))]
    by_unit = {s.unit_id: s for s in rank(DEFAULT_RULES, entries)}
    assert by_unit[1].rank is None and by_unit[1].score == 100.0
    assert by_unit[2].rank == 1
    assert by_unit[2].ranked_in_group == 1


def test_the_change_from_last_month() -> None:
    entries = [Entry(1, "departments", "bureau", full(10, 10)),
               Entry(2, "departments", "bureau", full(10, 8)),
               Entry(3, "departments", "bureau", full(10, 7))]
    previous = {1: Previous(3, 70.0), 2: Previous(2, 80.0), 3: Previous(None, None)}
    by_unit = {s.unit_id: s for s in rank(DEFAULT_RULES, entries, previous)}
    assert by_unit[1].rank_change == 2 and by_unit[1].score_change == 30.0  # ↑2
    assert by_unit[2].rank_change == 0 and by_unit[2].score_change == 0.0
    assert by_unit[3].rank_change is None and by_unit[3].score_change is None


# --- the rules as data -----------------------------------------------------------------------

@pytest.mark.parametrize(("change", "message"), [
    ({"weights": {"district": {"response": 0.5, "resolution": 0.5, "satisfaction": 0.5}}},
     "together 1"),
    ({"weights": {"district": {"response": 1}}}, "as numbers"),
    ({"weights": {"embassy": {"response": 1, "resolution": 0, "satisfaction": 0}}},
     "unknown kind"),
    ({"response_events": ["telepathy"]}, "sign or contact"),
    ({"response_events": []}, "at least one"),
    ({"satisfaction_points": {"satisfied": 2}}, "between 0 and 1"),
    ({"response_hours": 0}, "positive"),
    ({"response_hours": "soon"}, "numbers"),
    ({"min_orders": 0}, "at least 1"),
])
def test_bad_rules_are_refused_with_the_part_named(change: dict[str, Any], message: str) -> None:
    data = copy.deepcopy(DEFAULT_DEFINITION)
    data.update(change)
    with pytest.raises(RulesError, match=message):
        Rules.from_dict(data)


def test_missing_weights_of_a_kind_are_refused() -> None:
    data = copy.deepcopy(DEFAULT_DEFINITION)
    del data["weights"]["utility"]
    with pytest.raises(RulesError, match="missing utility"):
        Rules.from_dict(data)


def test_months() -> None:
    assert month_before("2026-01") == "2025-12"
    assert month_before("2026-11") == "2026-10"
    assert parse_month("2026-03") == (2026, 3)
    for bad in ("2026-13", "2026-3", "26-03-01", "abcd-ef", "2026-0x", "", "1999-12"):
        with pytest.raises(ValueError):
            parse_month(bad)


# --- the appeal state machine, pair by pair --------------------------------------------------

@pytest.mark.parametrize("state", list(ap.AppealState))
@pytest.mark.parametrize("action", list(ap.AppealAction))
def test_every_appeal_pair(state: ap.AppealState, action: ap.AppealAction) -> None:
    expected = {(ap.AppealState.SUBMITTED, ap.AppealAction.ACCEPT): ap.AppealState.ACCEPTED,
                (ap.AppealState.SUBMITTED, ap.AppealAction.REFUSE): ap.AppealState.REFUSED}
    if (state, action) in expected:
        assert ap.next_state(state, action) == expected[(state, action)]
    else:
        with pytest.raises(ap.AppealTransitionError):
            ap.next_state(state, action)


def test_unknown_appeal_state_or_action() -> None:
    with pytest.raises(ap.AppealTransitionError):
        ap.next_state("lost", "accept")
    with pytest.raises(ap.AppealTransitionError):
        ap.next_state("submitted", "shrug")
