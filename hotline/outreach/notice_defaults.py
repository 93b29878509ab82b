"""The notification texts the hotline starts with, per event, channel and language (no Django).

They are data, not translations: the centre edits them in the admin (``NoticeTemplate`` rows,
seeded from this table by the migration); a missing or broken row falls back to the text here.
Fields in braces are filled in: {number} the acceptance number, {unit} the unit handling it,
{reply} the answer, {link} the survey page, {hotline} the hotline's number. A confidential
order or a 举报 never gets its matter, answer or unit: {reply} and {unit} are then a neutral
phrase, so one template serves every order."""

from __future__ import annotations

import string
from enum import StrEnum


class Event(StrEnum):
    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    REPLIED = "replied"
    CLOSED = "closed"
    SURVEY = "survey"


CHANNELS = ("sms", "email")
LANGUAGES = ("zh-hans", "en")
FIELDS = frozenset({"number", "unit", "reply", "link", "hotline"})

# (event, channel, language) -> (subject, body); an SMS has no subject.
DEFAULTS: dict[tuple[str, str, str], tuple[str, str]] = {
    ("accepted", "sms", "zh-hans"): (
        "", "【{hotline}】您的诉求已受理，受理号{number}，请凭此号查询办理进度。"),
    ("accepted", "sms", "en"): (
        "", "[{hotline}] Your request is accepted with the number {number}. Keep it to "
            "follow the request."),
    ("accepted", "email", "zh-hans"): (
        "诉求{number}已受理", "您好：\n\n您的诉求已受理，受理号{number}。请凭此号在门户网站或致电"
                          "{hotline}查询办理进度。\n\n{hotline}政务服务热线"),
    ("accepted", "email", "en"): (
        "Request {number} accepted", "Hello,\n\nYour request is accepted with the number "
                                     "{number}. Keep it to follow the request on the portal or "
                                     "by calling {hotline}.\n\nThe {hotline} hotline"),
    ("dispatched", "sms", "zh-hans"): (
        "", "【{hotline}】您的诉求{number}已转交{unit}办理。"),
    ("dispatched", "sms", "en"): (
        "", "[{hotline}] Your request {number} is with {unit}."),
    ("dispatched", "email", "zh-hans"): (
        "诉求{number}已转办", "您好：\n\n您的诉求{number}已转交{unit}办理，办理结果将及时告知您。\n\n"
                          "{hotline}政务服务热线"),
    ("dispatched", "email", "en"): (
        "Request {number} sent on", "Hello,\n\nYour request {number} is with {unit}. You will "
                                    "hear of the answer.\n\nThe {hotline} hotline"),
    ("replied", "sms", "zh-hans"): (
        "", "【{hotline}】您的诉求{number}已办理答复：{reply}"),
    ("replied", "sms", "en"): (
        "", "[{hotline}] Your request {number} is answered: {reply}"),
    ("replied", "email", "zh-hans"): (
        "诉求{number}已答复", "您好：\n\n您的诉求{number}已办理答复：\n\n{reply}\n\n{hotline}政务服务热线"),
    ("replied", "email", "en"): (
        "Request {number} answered", "Hello,\n\nYour request {number} is answered:\n\n{reply}"
                                     "\n\nThe {hotline} hotline"),
    ("closed", "sms", "zh-hans"): (
        "", "【{hotline}】您的诉求{number}已办结，感谢您的支持。"),
    ("closed", "sms", "en"): (
        "", "[{hotline}] Your request {number} is closed. Thank you for telling us."),
    ("closed", "email", "zh-hans"): (
        "诉求{number}已办结", "您好：\n\n您的诉求{number}已办结，感谢您的支持。\n\n{hotline}政务服务热线"),
    ("closed", "email", "en"): (
        "Request {number} closed", "Hello,\n\nYour request {number} is closed. Thank you for "
                                   "telling us.\n\nThe {hotline} hotline"),
    ("survey", "sms", "zh-hans"): (
        "", "【{hotline}】您的诉求{number}已办理答复，请评价：满意回复1，基本满意回复2，不满意回复3；"
            "或打开{link}"),
    ("survey", "sms", "en"): (
        "", "[{hotline}] Your request {number} is answered. Rate it: reply 1 satisfied, 2 "
            "basically satisfied, 3 not satisfied, or open {link}"),
    ("survey", "email", "zh-hans"): (
        "请评价诉求{number}的办理", "您好：\n\n您的诉求{number}已办理答复。请打开以下链接，告诉我们问题"
                               "是否解决、您是否满意：\n\n{link}\n\n{hotline}政务服务热线"),
    ("survey", "email", "en"): (
        "How did we handle request {number}?", "Hello,\n\nYour request {number} is answered. "
                                               "Please tell us whether it is resolved and "
                                               "whether you are satisfied:\n\n{link}\n\nThe "
                                               "{hotline} hotline"),
}

# What stands for {reply} and {unit} where the order's own words must not go.
NEUTRAL: dict[tuple[str, str], str] = {
    ("reply", "zh-hans"): "请登录门户网站或致电查询答复内容。",
    ("reply", "en"): "see the answer on the portal or call the hotline.",
    ("unit", "zh-hans"): "承办单位",
    ("unit", "en"): "the responsible unit",
}


def template_problems(text: str) -> list[str]:
    """What is wrong with a template: unknown fields, attribute or index look-ups, bad braces."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        return [f"bad braces: {exc}"]
    problems = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in FIELDS or spec or conversion:
            problems.append(f"unknown field {{{name}}} (one of "
                            f"{', '.join('{' + f + '}' for f in sorted(FIELDS))})")
    return problems


def render(text: str, values: dict[str, str]) -> str:
    """Fill in a checked template (``template_problems`` found nothing)."""
    return text.format_map({name: values.get(name, "") for name in FIELDS})


# The answer to an SMS survey reply (not a notification: the citizen wrote first).
THANKS: dict[tuple[str, str], str] = {
    ("kept", "zh-hans"): "【{hotline}】感谢您对诉求{number}的评价。",
    ("kept", "en"): "[{hotline}] Thank you for rating request {number}.",
    ("reopened", "zh-hans"): "【{hotline}】感谢您的评价，诉求{number}将重新办理。",
    ("reopened", "en"): "[{hotline}] Thank you. Request {number} will be handled again.",
}
