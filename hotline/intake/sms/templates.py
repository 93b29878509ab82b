"""The texts the hotline sends by SMS, one per event, in Chinese unless told otherwise. Each
names the hotline (a citizen must know who writes) and notifications end with the opt-out hint
(回复TD退订) the rules for bulk SMS ask for."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hotline.intake.sms.outbound import OPT_OUT_HINT

ACCEPTED = gettext_noop("[12345] Your request is accepted, number %(number)s. Reply to this SMS "
                        "to add to it.")
ADDED = gettext_noop("[12345] Your message was added to request %(number)s.")
OPTED_OUT = gettext_noop("[12345] You will get no more notifications by SMS. Call 12345 for "
                         "anything else.")
VERIFICATION = gettext_noop("[12345] Your code is %(code)s, valid for 10 minutes. Do not tell "
                            "it to anyone.")


def _render(language: str, text: str, **values: str) -> str:
    with translation.override(language):
        return _(text) % values


def accepted(number: str, *, language: str = "zh-hans") -> str:
    return _render(language, ACCEPTED, number=number) + " " + OPT_OUT_HINT


def added(number: str, *, language: str = "zh-hans") -> str:
    return _render(language, ADDED, number=number) + " " + OPT_OUT_HINT


def opted_out(*, language: str = "zh-hans") -> str:
    return _render(language, OPTED_OUT)


def verification(code: str, *, language: str = "zh-hans") -> str:
    return _render(language, VERIFICATION, code=code)
