"""Digest credentials of agents' SIP phones, server side (RFC 3261 22.4, RFC 7616, RFC 8760).

A registrar never needs the password: HA1 = H(username:realm:password) is enough to check a
phone's response, so the platform stores only HA1 (MD5 for the phones that know nothing else,
SHA-256 for those that do). The client side is ``hotline.voice.sip.auth``.
"""

from __future__ import annotations

import hashlib
import hmac


def _hash(algorithm: str, text: str) -> str:
    base = algorithm.upper().removesuffix("-SESS")
    data = text.encode("utf-8")
    if base == "MD5":
        return hashlib.md5(data, usedforsecurity=False).hexdigest()
    if base == "SHA-256":
        return hashlib.sha256(data).hexdigest()
    raise ValueError(f"unsupported digest algorithm {algorithm[:20]!r}")


def ha1(username: str, realm: str, password: str, algorithm: str = "MD5") -> str:
    return _hash(algorithm, f"{username}:{realm}:{password}")


def check_response(
    stored_ha1: str,
    *,
    algorithm: str,
    nonce: str,
    method: str,
    uri: str,
    response: str,
    qop: str | None = None,
    nc: str = "",
    cnonce: str = "",
) -> bool:
    """True when ``response`` is what a phone knowing the password would send."""
    if not stored_ha1:
        return False
    key = stored_ha1
    if algorithm.upper().endswith("-SESS"):
        key = _hash(algorithm, f"{stored_ha1}:{nonce}:{cnonce}")
    if qop not in (None, "", "auth"):
        return False  # auth-int needs the body; the registrar offers qop=auth only
    ha2 = _hash(algorithm, f"{method}:{uri}")
    if qop:
        expected = _hash(algorithm, f"{key}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    else:
        expected = _hash(algorithm, f"{key}:{nonce}:{ha2}")
    return hmac.compare_digest(expected, response.lower())
