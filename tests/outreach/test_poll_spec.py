"""The poll builder's text format, its checks, branching and answering; the keypad flows
generated from a poll and a notice, loaded by the gateway's own flow loader."""

from __future__ import annotations

import pytest

from hotline.outreach import outbound_flows, poll_spec
from hotline.outreach.poll_chart import bar_chart
from hotline.outreach.poll_spec import AnswerError, Kind, SpecError
from hotline.voice.ivr.flow import build_flow

SPEC = """
Q1 single: 您对本次停水通知是否满意？
- 满意
- 基本满意
- 不满意 -> Q3
Q2 scale 1-5: 请为供水抢修的速度打分
- 1-2 -> Q4
Q3 multiple: 您希望通过哪些方式收到通知？
- 短信
- 电话
- 邮件
Q4 text: 其他意见和建议
"""


def test_parse_and_dump_round_trip() -> None:
    questions = poll_spec.parse(SPEC)
    assert [q.kind for q in questions] == [Kind.SINGLE, Kind.SCALE, Kind.MULTIPLE, Kind.TEXT]
    assert questions[0].branches == {"3": "Q3"}
    assert questions[1].branches == {"1": "Q4", "2": "Q4"}
    assert poll_spec.parse(poll_spec.dump(questions)) == questions
    assert poll_spec.from_data(poll_spec.to_data(questions)) == questions


@pytest.mark.parametrize(("text", "problem"), [
    ("", "at least one question"),
    ("- 满意", "line 1: a choice before the first question"),
    ("你好", "line 1: start a question"),
    ("Q1 single: 好吗\n- 好", "Q1: 2 to 9 choices"),
    ("Q1 single: 好吗\n- 好\n- 不好\nQ1 text: 说", "Q1: the key is used twice"),
    ("Q1 single: 好吗\n- 好 -> Q9\n- 不好", "unknown question Q9"),
    ("Q1 text: 说\nQ2 single: 好吗\n- 好 -> Q1\n- 不好", "may only go forward"),
    ("Q1 scale 5-3: 打分", "a scale runs from"),
    ("Q1 multiple: 选\n- 甲 -> end\n- 乙", "cannot branch"),
    ("Q1 text: 说\n- 甲", "a free-text question has no choices"),
    ("Q1 single 1-5: 好吗\n- 好\n- 不好", "only a scale has a range"),
    ("Q1 scale 1-5: 打分\n- 甲", "a scale's line is a value"),
])
def test_every_problem_is_named(text: str, problem: str) -> None:
    with pytest.raises(SpecError) as error:
        poll_spec.parse(text)
    assert any(problem in p for p in error.value.problems), error.value.problems


def test_branching_and_answering() -> None:
    qs = poll_spec.parse(SPEC)
    # 不满意 skips the scale; a low score skips the channels question.
    assert poll_spec.next_key(qs, "Q1", "3") == "Q3"
    assert poll_spec.next_key(qs, "Q1", "1") == "Q2"
    assert poll_spec.next_key(qs, "Q2", "2") == "Q4"
    assert poll_spec.next_key(qs, "Q4", None) is None
    answers = poll_spec.clean_response(qs, {"Q1": "3", "Q2": "5", "Q3": ["3", "1"], "Q4": " 好 "})
    assert answers == {"Q1": "3", "Q3": ["1", "3"], "Q4": "好"}  # Q2 was off the path
    with pytest.raises(AnswerError) as error:
        poll_spec.clean_response(qs, {"Q1": "1"})
    assert error.value.key == "Q2"
    with pytest.raises(AnswerError):
        poll_spec.clean_response(qs, {"Q1": "4"})
    with pytest.raises(AnswerError):
        poll_spec.clean_response(qs, {"Q1": ["1", "2"]})
    with pytest.raises(AnswerError):
        poll_spec.clean_answer(qs[3], "长" * 1001)
    end = poll_spec.parse("Q1 single: 是否居住在本区？\n- 是\n- 否 -> end\nQ2 text: 说")
    assert poll_spec.clean_response(end, {"Q1": "2", "Q2": "x"}) == {"Q1": "2"}


def test_keypad_answers() -> None:
    qs = poll_spec.parse(SPEC)
    assert poll_spec.from_keypad(qs[0], "2") == "2"
    assert poll_spec.from_keypad(qs[0], "7") is None
    assert poll_spec.from_keypad(qs[2], "31#") == ["1", "3"]
    assert poll_spec.from_keypad(qs[2], "39") is None
    assert poll_spec.from_keypad(qs[3], "1") is None
    assert outbound_flows.answers_from_vars(qs, {"q_Q1": "3", "q_Q3": "12", "q_Q4": "9"}) == {
        "Q1": "3", "Q3": ["1", "2"]}


def test_the_poll_flow_loads_in_the_gateway_and_follows_the_branches() -> None:
    qs = poll_spec.parse(SPEC)
    raw = outbound_flows.poll_flow("供水服务调查", qs)
    flow = build_flow(raw)
    q1 = flow.nodes["q_Q1"]
    assert q1.type == "menu" and q1.var == "q_Q1"
    assert dict(q1.choices) == {"1": "q_Q2", "2": "q_Q2", "3": "q_Q3"}
    q2 = flow.nodes["q_Q2"]
    # A low score branches to Q4, free text, which the phone skips: the call ends.
    assert q2.choices["1"] == "thanks" and q2.choices["5"] == "q_Q3"
    q3 = flow.nodes["q_Q3"]
    assert q3.type == "collect" and q3.terminator == "#" and q3.max_digits == 3
    assert q3.next == "thanks" and "q_Q4" not in flow.nodes


def test_a_scale_from_zero_keeps_zero_as_an_answer() -> None:
    qs = poll_spec.parse("Q1 scale 0-9: 打分")
    flow = build_flow(outbound_flows.poll_flow("调查", qs))
    assert set(flow.nodes["q_Q1"].choices) == set("0123456789")


def test_a_poll_of_free_text_only_has_no_keypad_flow() -> None:
    with pytest.raises(ValueError):
        outbound_flows.poll_flow("调查", poll_spec.parse("Q1 text: 说"))


def test_notice_flows_load_and_braces_are_spoken() -> None:
    tts = build_flow(outbound_flows.notice_flow(text="明天{8点}停水"))
    segment = tts.nodes["notice"].prompt[1]
    assert segment.text.format() == "明天{8点}停水"  # type: ignore[union-attr]
    recorded = build_flow(outbound_flows.notice_flow(recorded=True))
    assert type(recorded.nodes["notice"].prompt[1]).__name__ == "PlayRecording"
    assert dict(recorded.nodes["ask"].choices) == {"1": "notice", "2": "thanks"}
    with pytest.raises(ValueError):
        outbound_flows.notice_flow(text=" ")


def test_bar_chart_escapes_and_scales() -> None:
    svg = bar_chart([("<满意>", 3), ("不满意", 1)], title="Q1")
    assert "&lt;满意&gt;" in svg and "<满意>" not in svg
    assert "3 (75%)" in svg and "1 (25%)" in svg
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "0 (0%)" in bar_chart([("甲", 0)])
