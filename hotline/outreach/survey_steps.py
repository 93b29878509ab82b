"""The satisfaction survey's rules as data (no Django, no asyncio).

The centre chooses per order type which way of asking comes first and what follows when the
citizen cannot be reached that way (``SurveyPolicy.methods``: "ivr,sms", "agent", ...); this
module reads such a list, says which way is next, and turns what the citizen keyed or
replied into an answer. Tested alone (tests/outreach/test_survey_steps.py)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class Method(StrEnum):
    AGENT = "agent"  # an agent calls back (回访 by a person: the call-backs work list)
    IVR = "ivr"  # an automated call: resolved? 1 satisfied 2 basically 3 not, a comment
    SMS = "sms"  # an SMS: reply with a digit, or open the survey page's link
    PORTAL = "portal"  # the survey page's link alone (by email, else by SMS)


class Satisfaction(StrEnum):
    """The values of hotline.orders.models.Satisfaction (kept equal by a test)."""

    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"


DEFAULT_METHODS = (Method.IVR, Method.SMS, Method.AGENT)  # a person calls if nobody answered
# 满意请按1，基本满意请按2，不满意请按3: the same digits on the phone and in an SMS reply.
SATISFACTION_KEYS = {"1": Satisfaction.SATISFIED, "2": Satisfaction.BASIC,
                     "3": Satisfaction.UNSATISFIED}
RESOLVED_KEYS = {"1": True, "2": False}  # 已解决请按1，未解决请按2


class BadMethods(ValueError):
    pass


def parse_methods(text: str) -> tuple[Method, ...]:
    """"ivr, sms" -> (IVR, SMS); raises BadMethods for an unknown or repeated way, or an
    agent call back anywhere but last (after it, a person decides)."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not names:
        raise BadMethods("name at least one way of asking")
    found: list[Method] = []
    for name in names:
        if name not in Method.__members__.values():
            raise BadMethods(f"unknown way of asking {name!r} "
                             f"(one of {', '.join(m.value for m in Method)})")
        method = Method(name)
        if method in found:
            raise BadMethods(f"{name!r} is named twice")
        found.append(method)
    if Method.AGENT in found[:-1]:
        raise BadMethods("an agent call back can only be the last way")
    return tuple(found)


def next_method(methods: tuple[Method, ...], tried: tuple[str, ...]) -> Method | None:
    """The first way not tried yet; None when every way was tried."""
    for method in methods:
        if method.value not in tried:
            return method
    return None


@dataclass(frozen=True)
class Answer:
    resolved: bool
    satisfaction: Satisfaction
    comment: str = ""

    @property
    def reopens(self) -> bool:
        """Unresolved or unsatisfied: the matter goes back to the department (重办)."""
        return not self.resolved or self.satisfaction == Satisfaction.UNSATISFIED


def digit(text: str) -> str:
    """The one digit a reply consists of ("１", " 1 ", "1。"), else ""."""
    cleaned = unicodedata.normalize("NFKC", text).strip().rstrip("。.!！")
    return cleaned if len(cleaned) == 1 and cleaned.isdigit() else ""


def answer_from_keys(resolved_key: str, satisfaction_key: str, comment: str = "") -> Answer | None:
    """An IVR call's keys as an answer; None when the satisfaction was not given. Without the
    resolved question answered, "not satisfied" counts as unresolved and the rest as resolved
    (as the portal's rating does)."""
    satisfaction = SATISFACTION_KEYS.get(satisfaction_key)
    if satisfaction is None:
        return None
    resolved = RESOLVED_KEYS.get(resolved_key, satisfaction != Satisfaction.UNSATISFIED)
    return Answer(resolved, satisfaction, comment)


def answer_from_reply(text: str) -> Answer | None:
    """An SMS reply of one digit (1, 2 or 3) as an answer; None for anything else."""
    return answer_from_keys("", digit(text))
