"""The hashes of HTTP/SIP digest authentication (RFC 2617, RFC 7616, RFC 8760), pure.

Shared by the SIP stack (``hotline.voice.sip.auth``: responses and their checks) and the
contact centre (which stores an extension's HA1 = H(username:realm:password) instead of its
password): one implementation, so what the desk stores is what the registrar checks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

DIGEST_HASHES: dict[str, Callable[[bytes], str]] = {
    "MD5": lambda data: hashlib.md5(data, usedforsecurity=False).hexdigest(),
    "SHA-256": lambda data: hashlib.sha256(data).hexdigest(),
    "SHA-512-256": lambda data: hashlib.new("sha512_256", data).hexdigest(),
}


def digest_hash(algorithm: str, text: str) -> str:
    """H(text) for a digest algorithm (its -sess variant hashes the same way)."""
    base = algorithm.upper().removesuffix("-SESS")
    if base not in DIGEST_HASHES:
        raise ValueError(f"unsupported digest algorithm {algorithm[:20]!r}")
    return DIGEST_HASHES[base](text.encode("utf-8"))


def ha1(username: str, realm: str, password: str, algorithm: str = "MD5") -> str:
    """H(username:realm:password): what a registrar stores instead of the password."""
    return digest_hash(algorithm, f"{username}:{realm}:{password}")
