"""The IVR flows of outbound calls, generated as data in the inbound IVR's format
(``hotline/voice/ivr/flow.py``; no Django, no asyncio): a campaign's notice and a poll's
keypad questions. Outreach never imports the voice gateway; the tests load every generated
flow with the gateway's real flow loader.

What the gateway stores when the call ends is ``result["vars"]``: the notice's ``ack`` (1
heard it again, 2 received) and, for a poll, one variable per question (``q_<KEY>``) with
the key or keys pressed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hotline.outreach.poll_spec import Kind, Question, from_keypad

RECORDING_VAR = "notice"  # flow variable holding the recorded notice's file path
ACK_VAR = "ack"
GOODBYE = "goodbye"
TEXTS = {"invalid": "输入有误。", "no_input": "您没有输入。"}


def spoken(text: str) -> str:
    """Text for a TTS prompt: prompts are str.format templates, so braces are doubled."""
    return text.replace("{", "{{").replace("}", "}}")


def notice_flow(*, text: str = "", recorded: bool = False, name: str = "notice") -> dict[str, Any]:
    """A notice read by TTS (``text``) or played from a recording (``recorded``: the path is
    the call variable ``notice``), then "press 1 to hear it again, 2 to end"."""
    if not recorded and not text.strip():
        raise ValueError("a notice needs its text or its recording")
    prompt: list[Any] = [{"recording": RECORDING_VAR}] if recorded else [spoken(text.strip())]
    return {
        "name": name, "start": "notice", "operator": GOODBYE, "fallback": GOODBYE,
        "retries": 2, "texts": TEXTS,
        "nodes": {
            "notice": {"type": "play", "prompt": ["您好，这里是12345政务服务热线。", *prompt],
                       "next": "ask"},
            "ask": {"type": "menu", "prompt": "重听请按1，收到请按2。", "var": ACK_VAR,
                    "choices": {"1": "notice", "2": "thanks"}},
            "thanks": {"type": "hangup", "prompt": "感谢您的接听，再见。"},
            GOODBYE: {"type": "hangup", "prompt": "再见。"},
        },
    }


def question_var(key: str) -> str:
    return f"q_{key}"


def _node(key: str) -> str:
    return f"q_{key}"


def keypad_questions(questions: Sequence[Question]) -> list[Question]:
    """The questions asked on the phone: free text is skipped (it is answered on the web)."""
    return [q for q in questions if q.kind != Kind.TEXT]


def poll_flow(title: str, questions: Sequence[Question], *, intro: str = "",
              name: str = "poll") -> dict[str, Any]:
    """The poll as keypad questions: single choice and scale are menus (one key per choice or
    value; a branch is the key's next node), multiple choice collects the choices' keys up to
    "#". Free-text questions are skipped, and a branch to one goes to the next asked one."""
    asked = keypad_questions(questions)
    if not asked:
        raise ValueError("the poll has no question that can be answered on the keypad")
    order = [q.key for q in questions]
    asked_keys = {q.key for q in asked}

    def target(key: str | None) -> str:
        """The node for question ``key`` or, if it is not asked on the phone, the next one."""
        while key is not None and key not in asked_keys:
            i = order.index(key)
            key = order[i + 1] if i + 1 < len(order) else None
        return _node(key) if key is not None else "thanks"

    def after(q: Question) -> str:
        i = order.index(q.key)
        return target(order[i + 1] if i + 1 < len(order) else None)

    intro_text = intro.strip() or f"您好，这里是12345政务服务热线，{title.strip()}。"
    nodes: dict[str, Any] = {
        "intro": {"type": "play", "prompt": [spoken(intro_text),
                                             "请根据提示按键回答，共" + str(len(asked)) + "个问题。"],
                  "next": _node(asked[0].key)},
    }
    for number, q in enumerate(asked, start=1):
        end = "" if q.text[-1:] in "。？?！!：:" else "。"
        head = f"第{number}题，{spoken(q.text)}{end}"
        if q.kind == Kind.MULTIPLE:
            options = "，".join(f"{spoken(c)}请按{i}" for i, c in enumerate(q.choices, start=1))
            nodes[_node(q.key)] = {
                "type": "collect", "var": question_var(q.key),
                "prompt": f"{head}可以多选，{options}，依次按下后按井号键结束。",
                "max_digits": len(q.choices), "terminator": "#", "next": after(q)}
            continue
        if q.kind == Kind.SINGLE:
            options = "，".join(f"{spoken(c)}请按{i}" for i, c in enumerate(q.choices, start=1))
        else:
            options = f"请按{q.low}到{q.high}打分，{q.high}分最高"
        choices = {}
        for value in q.values:
            branch = q.branches.get(value)
            if branch is None:
                choices[value] = after(q)
            else:
                choices[value] = "thanks" if branch == "end" else target(branch)
        nodes[_node(q.key)] = {"type": "menu", "var": question_var(q.key),
                               "prompt": f"{head}{options}。", "choices": choices}
    nodes["thanks"] = {"type": "hangup", "prompt": "您的回答已记录，感谢您的参与，再见。"}
    nodes[GOODBYE] = {"type": "hangup", "prompt": "再见。"}
    return {"name": name, "start": "intro", "operator": GOODBYE, "fallback": GOODBYE,
            "retries": 2, "texts": TEXTS, "nodes": nodes}


def answers_from_vars(questions: Sequence[Question], variables: dict[str, Any]) -> dict[str, Any]:
    """The stored answers from what the gateway recorded (``result["vars"]``); keys that mean
    nothing are left out."""
    answers: dict[str, Any] = {}
    for q in keypad_questions(questions):
        raw = variables.get(question_var(q.key))
        if raw is None:
            continue
        value = from_keypad(q, str(raw))
        if value is not None:
            answers[q.key] = value
    return answers
