"""The survey's rules as data: the ways of asking, the next way, digits to answers."""

from __future__ import annotations

import pytest

from hotline.orders.models import Satisfaction as OrderSatisfaction
from hotline.outreach.survey_steps import (
    BadMethods,
    Method,
    Satisfaction,
    answer_from_keys,
    answer_from_reply,
    digit,
    next_method,
    parse_methods,
)


def test_the_ways_are_read_in_order_and_bad_lists_refused() -> None:
    assert parse_methods(" IVR, sms ,agent") == (Method.IVR, Method.SMS, Method.AGENT)
    assert parse_methods("portal") == (Method.PORTAL,)
    for bad in ("", " , ", "ivr,fax", "sms,sms", "agent,ivr"):
        with pytest.raises(BadMethods):
            parse_methods(bad)


def test_the_next_way_is_the_first_not_tried() -> None:
    ways = (Method.IVR, Method.SMS, Method.AGENT)
    assert next_method(ways, ()) == Method.IVR
    assert next_method(ways, ("ivr",)) == Method.SMS
    assert next_method(ways, ("ivr", "sms")) == Method.AGENT
    assert next_method(ways, ("ivr", "sms", "agent")) is None
    assert next_method((Method.SMS,), ("sms",)) is None


def test_satisfaction_values_are_the_orders() -> None:
    assert {s.value for s in Satisfaction} == set(OrderSatisfaction.values)


@pytest.mark.parametrize(("text", "expected"), [
    ("1", "1"), (" 2 ", "2"), ("３", "3"), ("1。", "1"), ("12", ""), ("满意", ""), ("", ""),
])
def test_a_reply_is_one_digit(text: str, expected: str) -> None:
    assert digit(text) == expected


def test_keys_become_answers() -> None:
    satisfied = answer_from_keys("1", "1")
    assert satisfied is not None and (satisfied.resolved, satisfied.satisfaction) == (
        True, Satisfaction.SATISFIED) and not satisfied.reopens
    unresolved = answer_from_keys("2", "2")
    assert unresolved is not None and not unresolved.resolved and unresolved.reopens
    unhappy = answer_from_keys("", "3")
    assert unhappy is not None and not unhappy.resolved and unhappy.reopens
    assert answer_from_keys("1", "") is None and answer_from_keys("1", "4") is None
    basic = answer_from_reply("2")
    assert basic is not None and basic.resolved and basic.satisfaction == Satisfaction.BASIC
    assert answer_from_reply("4") is None and answer_from_reply("路灯还是不亮") is None


def test_the_admin_refuses_a_bad_policy() -> None:
    from django.core.exceptions import ValidationError

    from hotline.outreach.models import SurveyPolicy

    SurveyPolicy(order_type="report", methods="sms,agent").clean_fields()
    with pytest.raises(ValidationError):
        SurveyPolicy(order_type="report", methods="agent,sms").clean_fields()
