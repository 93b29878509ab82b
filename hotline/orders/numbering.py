"""Acceptance numbers (受理号): eight digits, the last one a Damm check digit.

Damm catches every single mistyped digit and every swap of two adjacent digits, so a caller
who mistypes a number on the keypad is told the number is wrong instead of being matched to
somebody else's order.

The first seven digits are the order counter passed through a keyed format-preserving
permutation of 0..9,999,999: a Feistel network in the shape of NIST SP 800-38G's FF1 (radix 10,
the seven digits split into a 3-digit and a 4-digit half that alternate, ten rounds, each round
function HMAC-SHA256 under the key). Every counter value still maps to exactly one number, but
without the key nobody can compute their neighbours' numbers from their own (the affine
permutation used before had its constants in the source, so anyone could). Because the halves
are 10**3 and 10**4, the network permutes exactly 10**7 values and needs no cycle-walking.

Numbers issued under an earlier scheme or key stay valid (they are stored on their orders);
the services skip a counter whose number is already taken (``services.next_number``).
No framework imports: the counter and the key live in ``services``.
"""

from __future__ import annotations

import hmac

PAYLOAD_SPACE = 10_000_000
_DIGITS = 7
_LEFT = 3  # digits of the first half; the second has 4: 10**3 * 10**4 == PAYLOAD_SPACE
_ROUNDS = 10  # FF1's round count

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


def _check_key(key: bytes) -> None:
    # An empty or trivial key would make the permutation as public as the old constants.
    if len(key) < 16:
        raise ValueError("the acceptance-number key must be at least 16 bytes")


def _round(key: bytes, index: int, half: int, width: int) -> int:
    # The round number and the output width are in the message, so no two rounds share a
    # round function. 64 bits reduced mod 10**4 leave a bias below 10**-15.
    message = bytes((index, width)) + half.to_bytes(4, "big")
    return int.from_bytes(hmac.digest(key, message, "sha256")[:8], "big") % 10**width


def _permute(value: int, key: bytes) -> int:
    a, b = divmod(value, 10 ** (_DIGITS - _LEFT))
    for index in range(_ROUNDS):
        # FF1's alternation: even rounds produce a half as wide as A, odd ones as wide as B.
        width = _LEFT if index % 2 == 0 else _DIGITS - _LEFT
        a, b = b, (a + _round(key, index, b, width)) % 10**width
    return a * 10 ** (_DIGITS - _LEFT) + b


def _unpermute(value: int, key: bytes) -> int:
    # After an even number of rounds the halves are back to widths (3, 4).
    a, b = divmod(value, 10 ** (_DIGITS - _LEFT))
    for index in reversed(range(_ROUNDS)):
        width = _LEFT if index % 2 == 0 else _DIGITS - _LEFT
        a, b = (b - _round(key, index, a, width)) % 10**width, a
    return a * 10 ** (_DIGITS - _LEFT) + b


def payload_for(counter: int, key: bytes) -> int:
    """The seven-digit payload of the ``counter``-th order under ``key``."""
    if not 1 <= counter <= PAYLOAD_SPACE:
        raise ValueError(f"counter {counter} is outside 1..{PAYLOAD_SPACE}")
    _check_key(key)
    return _permute(counter - 1, key)


def counter_for(payload: int, key: bytes) -> int:
    """The inverse of ``payload_for``: which counter value gives ``payload`` under ``key``."""
    if not 0 <= payload < PAYLOAD_SPACE:
        raise ValueError(f"payload {payload} is outside 0..{PAYLOAD_SPACE - 1}")
    _check_key(key)
    return _unpermute(payload, key) + 1


def number_for(counter: int, key: bytes) -> str:
    """The acceptance number of the ``counter``-th order (1-based) under ``key``."""
    body = f"{payload_for(counter, key):07d}"
    return body + str(damm_digit(body))
