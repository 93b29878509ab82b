"""HTTP digest authentication for SIP (RFC 3261 22.4, RFC 2617, RFC 7616, RFC 8760).

Client side only: a trunk challenges our REGISTER or INVITE with 401/407, we answer
with an Authorization / Proxy-Authorization header. Pure functions; the caller supplies
the cnonce so tests can use the RFCs' example vectors.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

from hotline.voice.sip.message import ParseError, split_list

_HASHES = {
    "MD5": lambda data: hashlib.md5(data, usedforsecurity=False).hexdigest(),
    "SHA-256": lambda data: hashlib.sha256(data).hexdigest(),
    "SHA-512-256": lambda data: hashlib.new("sha512_256", data).hexdigest(),
}


@dataclass(frozen=True)
class DigestChallenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def parse_challenge(value: str) -> DigestChallenge:
    """Parse a WWW-Authenticate / Proxy-Authenticate header value."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise ParseError(f"unsupported authentication scheme {scheme[:20]!r}")
    params: dict[str, str] = {}
    for item in split_list(rest):
        name, sep, raw = item.partition("=")
        if not sep:
            raise ParseError(f"invalid challenge parameter {item[:40]!r}")
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1].replace('\\"', '"')
        params[name.strip().lower()] = raw
    if "realm" not in params or "nonce" not in params:
        raise ParseError("digest challenge without realm or nonce")
    algorithm = params.pop("algorithm", "MD5").upper()
    base = algorithm.removesuffix("-SESS")
    if base not in _HASHES:
        raise ParseError(f"unsupported digest algorithm {algorithm[:20]!r}")
    qop = tuple(q.strip().lower() for q in params.pop("qop", "").split(",") if q.strip())
    return DigestChallenge(
        realm=params.pop("realm"),
        nonce=params.pop("nonce"),
        algorithm=algorithm,
        qop=qop,
        opaque=params.pop("opaque", None),
        stale=params.pop("stale", "false").lower() == "true",
        extra=params,
    )


def digest_response(
    challenge: DigestChallenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    cnonce: str,
    nc: int = 1,
    qop: str | None = None,
    body: bytes = b"",
) -> str:
    """The `response` value (hex) for the given challenge and request."""
    algorithm = challenge.algorithm
    digest = _HASHES[algorithm.removesuffix("-SESS")]

    def h(text: str) -> str:
        return digest(text.encode("utf-8"))

    ha1 = h(f"{username}:{challenge.realm}:{password}")
    if algorithm.endswith("-SESS"):
        ha1 = h(f"{ha1}:{challenge.nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}:{digest(body)}") if qop == "auth-int" else h(f"{method}:{uri}")
    if qop:
        return h(f"{ha1}:{challenge.nonce}:{nc:08x}:{cnonce}:{qop}:{ha2}")
    return h(f"{ha1}:{challenge.nonce}:{ha2}")


def authorization(
    challenge: DigestChallenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    cnonce: str | None = None,
    nc: int = 1,
    body: bytes = b"",
) -> str:
    """The Authorization (or Proxy-Authorization) header value answering `challenge`."""
    qop = "auth" if "auth" in challenge.qop else ("auth-int" if "auth-int" in challenge.qop else None)
    cnonce = cnonce or secrets.token_hex(8)
    response = digest_response(
        challenge,
        username=username,
        password=password,
        method=method,
        uri=uri,
        cnonce=cnonce,
        nc=nc,
        qop=qop,
        body=body,
    )
    parts = [
        f'username="{_quote(username)}"',
        f'realm="{_quote(challenge.realm)}"',
        f'nonce="{_quote(challenge.nonce)}"',
        f'uri="{_quote(uri)}"',
        f'response="{response}"',
        f"algorithm={challenge.algorithm}",
    ]
    if qop:
        parts += [f'cnonce="{_quote(cnonce)}"', f"qop={qop}", f"nc={nc:08x}"]
    if challenge.opaque is not None:
        parts.append(f'opaque="{_quote(challenge.opaque)}"')
    return "Digest " + ", ".join(parts)


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
