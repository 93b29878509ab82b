"""Acceptance numbers (受理号): eight digits, the last one a Damm check digit.

Damm catches every single mistyped digit and every swap of two adjacent digits, so a caller
who mistypes a number on the keypad is told the number is wrong instead of being matched to
somebody else's order. The first seven digits are a counter value passed through an affine
permutation of 0..9,999,999, so consecutive orders do not get consecutive numbers (nobody can
walk the neighbours of their own number) while every counter value still maps to exactly one
number. No framework imports: the counter itself lives in ``services``.
"""

from __future__ import annotations

PAYLOAD_SPACE = 10_000_000
# Multiplier coprime to 10**7 (not divisible by 2 or 5) and an offset; changing either changes
# every future number, so they are constants, not settings.
_MULTIPLIER = 7_368_787
_OFFSET = 1_234_567

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def damm_digit(digits: str) -> int:
    interim = 0
    for char in digits:
        interim = _DAMM[interim][ord(char) - 48]
    return interim


def is_valid(number: str) -> bool:
    """True when ``number`` is eight ASCII digits whose check digit is right."""
    if len(number) != 8 or not number.isascii() or not number.isdigit():
        return False
    return damm_digit(number) == 0


def payload_for(counter: int) -> int:
    if not 1 <= counter <= PAYLOAD_SPACE:
        raise ValueError(f"counter {counter} is outside 1..{PAYLOAD_SPACE}")
    return (counter * _MULTIPLIER + _OFFSET) % PAYLOAD_SPACE


def number_for(counter: int) -> str:
    """The acceptance number of the ``counter``-th order (1-based)."""
    body = f"{payload_for(counter):07d}"
    return body + str(damm_digit(body))
