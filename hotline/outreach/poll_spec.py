"""A poll's questions as data, the small text format the builder edits, and the rules of
answering (no Django, no asyncio).

The builder is one text box, one question per block, so a centre writes a questionnaire the
way it would on paper and sees every problem at once, each with its line:

    Q1 single: 您对本次停水通知是否满意？
    - 满意
    - 基本满意
    - 不满意 -> Q3
    Q2 scale 1-5: 请为供水抢修的速度打分
    - 1-2 -> Q3
    Q3 multiple: 您希望通过哪些方式收到通知？
    - 短信
    - 电话
    Q4 text: 其他意见和建议

Kinds: single (one choice), multiple (any choices), scale (a whole number from min to max),
text (free text, optional). A choice (or, for a scale, a value or a range) may end with
"-> KEY" or "-> end": the next question after that answer (branching). Otherwise the next
question is the one below. Branches only go forward, so every answering ends.

Answers are stored by question key: single "2" (the choice's number, from 1), multiple
["1", "3"], scale "4", text "...". The same numbers are what a caller keys on the phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

END = "end"
MAX_QUESTIONS = 30
MAX_CHOICES = 9  # keys 1-9 on the phone
MAX_TEXT = 200  # a question or a choice
MAX_ANSWER_TEXT = 1000  # a free-text answer


class Kind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    SCALE = "scale"
    TEXT = "text"


def gettext_noop(text: str) -> str:
    """Marks a message for translation (Django's makemessages finds it by this name); the
    pages translate it. This module stays free of Django."""
    return text


class Problem(str):
    """One problem of a questionnaire: reads as the English sentence; ``template`` and
    ``params`` let a page translate it."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, **params: Any) -> Problem:
        made = super().__new__(cls, template % params if params else template)
        made.template, made.params = template, params
        return made


class SpecError(ValueError):
    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class AnswerError(ValueError):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key, self.problem = key, problem


@dataclass(frozen=True)
class Question:
    key: str
    kind: Kind
    text: str
    choices: tuple[str, ...] = ()
    low: int = 1  # scale
    high: int = 5  # scale
    branches: Mapping[str, str] = field(default_factory=dict)  # answer value -> key or END

    @property
    def values(self) -> list[str]:
        """The answers a caller may key: choice numbers, or the scale's values."""
        if self.kind in (Kind.SINGLE, Kind.MULTIPLE):
            return [str(i) for i in range(1, len(self.choices) + 1)]
        if self.kind == Kind.SCALE:
            return [str(v) for v in range(self.low, self.high + 1)]
        return []

    def label(self, value: str) -> str:
        """What an answer value means, for results: the choice's text or the value."""
        if self.kind in (Kind.SINGLE, Kind.MULTIPLE) and value.isdigit():
            index = int(value) - 1
            if 0 <= index < len(self.choices):
                return self.choices[index]
        return value

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "kind": self.kind.value, "text": self.text}
        if self.choices:
            data["choices"] = list(self.choices)
        if self.kind == Kind.SCALE:
            data["low"], data["high"] = self.low, self.high
        if self.branches:
            data["branches"] = dict(self.branches)
        return data


def from_data(raw: Iterable[Mapping[str, Any]]) -> list[Question]:
    """Questions from their stored form (checked again: a bad row raises SpecError)."""
    questions = [Question(key=str(q["key"]), kind=Kind(q["kind"]), text=str(q["text"]),
                          choices=tuple(str(c) for c in q.get("choices", ())),
                          low=int(q.get("low", 1)), high=int(q.get("high", 5)),
                          branches={str(k): str(v) for k, v in q.get("branches", {}).items()})
                 for q in raw]
    problems = check(questions)
    if problems:
        raise SpecError(problems)
    return questions


def to_data(questions: Sequence[Question]) -> list[dict[str, Any]]:
    return [q.to_data() for q in questions]


# --- the text format -------------------------------------------------------------------------

_HEAD = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9_]{0,15})\s+(?P<kind>single|multiple|scale|text)"
                   r"(?:\s+(?P<low>\d)\s*-\s*(?P<high>\d))?\s*[:：]\s*(?P<text>.*)$",
                   re.IGNORECASE)
_ARROW = re.compile(r"\s*(?:->|→)\s*(?P<target>[A-Za-z][A-Za-z0-9_]{0,15})\s*$")
_RANGE = re.compile(r"^(?P<a>\d)(?:\s*-\s*(?P<b>\d))?$")


def parse(text: str) -> list[Question]:
    """The questions written in ``text``; SpecError naming every problem (with line numbers)."""
    problems: list[Problem] = []
    blocks: list[dict[str, Any]] = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-", "－", "*")):
            if not blocks:
                problems.append(Problem(gettext_noop("line %(line)d: a choice before the first question"),
                                        line=number))
                continue
            blocks[-1]["lines"].append((number, line[1:].strip()))
            continue
        head = _HEAD.match(line)
        if head is None:
            problems.append(Problem(gettext_noop("line %(line)d: start a question with its key and "
                                                 "kind, e.g. \"Q1 single: ...\""), line=number))
            continue
        blocks.append({"number": number, "head": head, "lines": []})
    questions = [_question(block, problems) for block in blocks]
    problems.extend(check(questions))
    if not questions and not problems:
        problems.append(Problem(gettext_noop("write at least one question")))
    if problems:
        raise SpecError(problems)
    return questions


def _question(block: dict[str, Any], problems: list[Problem]) -> Question:
    head = block["head"]
    kind = Kind(head["kind"].lower())
    low = int(head["low"]) if head["low"] else 1
    high = int(head["high"]) if head["high"] else 5
    if head["low"] and kind != Kind.SCALE:
        problems.append(Problem(gettext_noop("line %(line)d: only a scale has a range"),
                                line=block["number"]))
    choices: list[str] = []
    branches: dict[str, str] = {}
    for number, line in block["lines"]:
        arrow = _ARROW.search(line)
        target = arrow["target"] if arrow else ""
        body = line[:arrow.start()].strip() if arrow else line
        if kind == Kind.SCALE:
            found = _RANGE.match(body)
            if found is None or not target:
                problems.append(Problem(gettext_noop("line %(line)d: a scale's line is a value or a range "
                                                     "and where it goes, e.g. \"- 1-2 -> Q5\""),
                                        line=number))
                continue
            a = int(found["a"])
            b = int(found["b"]) if found["b"] else a
            for value in range(min(a, b), max(a, b) + 1):
                branches[str(value)] = _target(target)
        elif kind == Kind.TEXT:
            problems.append(Problem(gettext_noop("line %(line)d: a free-text question has no choices"),
                                    line=number))
        else:
            choices.append(body)
            if target:
                branches[str(len(choices))] = _target(target)
    return Question(key=head["key"], kind=kind, text=head["text"].strip(), choices=tuple(choices),
                    low=low, high=high, branches=branches)


def _target(name: str) -> str:
    return END if name.lower() == END else name


def dump(questions: Sequence[Question]) -> str:
    """The text that ``parse`` reads back to the same questions (the builder's edit box)."""
    lines: list[str] = []
    for q in questions:
        scale = f" {q.low}-{q.high}" if q.kind == Kind.SCALE else ""
        lines.append(f"{q.key} {q.kind.value}{scale}: {q.text}")
        for i, choice in enumerate(q.choices, start=1):
            target = q.branches.get(str(i))
            lines.append(f"- {choice}" + (f" -> {target}" if target else ""))
        if q.kind == Kind.SCALE:
            for value in q.values:
                if value in q.branches:
                    lines.append(f"- {value} -> {q.branches[value]}")
    return "\n".join(lines) + "\n"


def check(questions: Sequence[Question]) -> list[Problem]:
    """Every problem of a questionnaire, by question key."""
    problems: list[Problem] = []
    if len(questions) > MAX_QUESTIONS:
        problems.append(Problem(gettext_noop("at most %(n)d questions"), n=MAX_QUESTIONS))
    keys = [q.key for q in questions]
    position = {key: i for i, key in enumerate(keys)}
    for dup in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(Problem(gettext_noop("%(key)s: the key is used twice"), key=dup))
    for i, q in enumerate(questions):
        if q.key.lower() == END:
            problems.append(Problem(gettext_noop("%(key)s: \"end\" is reserved"), key=q.key))
        if not q.text:
            problems.append(Problem(gettext_noop("%(key)s: the question has no text"), key=q.key))
        if len(q.text) > MAX_TEXT or any(len(c) > MAX_TEXT for c in q.choices):
            problems.append(Problem(gettext_noop("%(key)s: at most %(n)d characters a line"),
                                    key=q.key, n=MAX_TEXT))
        if q.kind in (Kind.SINGLE, Kind.MULTIPLE):
            if not 2 <= len(q.choices) <= MAX_CHOICES:
                problems.append(Problem(gettext_noop("%(key)s: 2 to %(n)d choices"),
                                        key=q.key, n=MAX_CHOICES))
            if any(not c for c in q.choices):
                problems.append(Problem(gettext_noop("%(key)s: a choice has no text"), key=q.key))
        if q.kind == Kind.SCALE and not (0 <= q.low < q.high <= 9):
            problems.append(Problem(gettext_noop("%(key)s: a scale runs from 0 or more up to 9 at most"),
                                    key=q.key))
        if q.kind == Kind.MULTIPLE and q.branches:
            problems.append(Problem(gettext_noop("%(key)s: a multiple-choice question cannot branch"),
                                    key=q.key))
        for value, target in q.branches.items():
            if value not in q.values:
                problems.append(Problem(gettext_noop("%(key)s: no answer %(value)s to branch from"),
                                        key=q.key, value=value))
            if target == END:
                continue
            if target not in position:
                problems.append(Problem(gettext_noop("%(key)s: goes to an unknown question %(target)s"),
                                        key=q.key, target=target))
            elif position[target] <= i:
                problems.append(Problem(gettext_noop("%(key)s: may only go forward (to a question "
                                                     "below), not to %(target)s"),
                                        key=q.key, target=target))
    return problems


# --- answering -------------------------------------------------------------------------------

def next_key(questions: Sequence[Question], key: str, answer: Any) -> str | None:
    """The question after ``key`` answered ``answer``; None at the end."""
    keys = [q.key for q in questions]
    i = keys.index(key)
    q = questions[i]
    if isinstance(answer, str) and answer in q.branches:
        target = q.branches[answer]
        return None if target == END else target
    return keys[i + 1] if i + 1 < len(keys) else None


def clean_answer(q: Question, raw: Any) -> Any:
    """One answer in its stored form, or None for "not answered"; AnswerError if it is wrong."""
    if q.kind == Kind.TEXT:
        text = str(raw or "").strip()
        if len(text) > MAX_ANSWER_TEXT:
            raise AnswerError(q.key, f"at most {MAX_ANSWER_TEXT} characters")
        return text or None
    if q.kind == Kind.MULTIPLE:
        items = raw if isinstance(raw, list | tuple) else ([] if raw in (None, "") else [raw])
        values = sorted({str(v).strip() for v in items}, key=lambda v: (len(v), v))
        if any(v not in q.values for v in values):
            raise AnswerError(q.key, "not one of the choices")
        return values or None
    if raw in (None, ""):
        return None
    if isinstance(raw, list | tuple):
        raise AnswerError(q.key, "choose one")
    value = str(raw).strip()
    if value not in q.values:
        raise AnswerError(q.key, "not one of the answers")
    return value


def clean_response(questions: Sequence[Question], raw: Mapping[str, Any]) -> dict[str, Any]:
    """The answers along the path the branches take; every question on the path but free
    text must be answered. Answers to questions off the path are dropped."""
    if not questions:
        return {}
    by_key = {q.key: q for q in questions}
    answers: dict[str, Any] = {}
    key: str | None = questions[0].key
    while key is not None:
        q = by_key[key]
        value = clean_answer(q, raw.get(key))
        if value is None and q.kind != Kind.TEXT:
            raise AnswerError(key, "please answer")
        if value is not None:
            answers[key] = value
        key = next_key(questions, key, value)
    return answers


def from_keypad(q: Question, digits: str) -> Any:
    """What a caller keyed for ``q`` as a stored answer: a digit for single and scale, the
    digits of every choice for multiple ("13" = choices 1 and 3); None if it means nothing."""
    digits = "".join(ch for ch in str(digits) if ch.isdigit())
    if not digits or q.kind == Kind.TEXT:
        return None
    try:
        if q.kind == Kind.MULTIPLE:
            return clean_answer(q, list(digits))
        return clean_answer(q, digits)
    except AnswerError:
        return None
