"""HTTP digest authentication for SIP (RFC 3261 22.4, RFC 2617, RFC 7616, RFC 8760).

Client side: a trunk challenges our REGISTER or INVITE with 401/407, we answer with an
Authorization / Proxy-Authorization header (`parse_challenge`, `authorization`).
Server side: agents' phones answer our registrar's challenge (`challenge_header`,
`parse_credentials`, `check_response`); the server needs only HA1, never the password.
Pure functions; the caller supplies the cnonce so tests can use the RFCs' example vectors.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

from hotline.core.digest import DIGEST_HASHES
from hotline.core.digest import digest_hash as _server_hash
from hotline.voice.sip.message import ParseError, split_list

_HASHES = DIGEST_HASHES


@dataclass(frozen=True)
class DigestChallenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def _digest_params(value: str, what: str) -> dict[str, str]:
    """The name=value parameters of a ``Digest ...`` header value (quoted values unquoted)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise ParseError(f"unsupported authentication scheme {scheme[:20]!r}")
    params: dict[str, str] = {}
    for item in split_list(rest):
        name, sep, raw = item.partition("=")
        if not sep:
            raise ParseError(f"invalid {what} parameter {item[:40]!r}")
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[name.strip().lower()] = raw
    return params


def parse_challenge(value: str) -> DigestChallenge:
    """Parse a WWW-Authenticate / Proxy-Authenticate header value."""
    params = _digest_params(value, "challenge")
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


# --- server side ----------------------------------------------------------------------


@dataclass(frozen=True)
class DigestCredentials:
    """The parameters of an Authorization / Proxy-Authorization header (RFC 7616 3.4)."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str = "MD5"
    qop: str | None = None
    nc: str = ""
    cnonce: str = ""
    opaque: str | None = None


def parse_credentials(value: str) -> DigestCredentials:
    """Parse a Digest Authorization header value; ParseError for anything malformed."""
    params = _digest_params(value, "credentials")
    missing = [name for name in ("username", "realm", "nonce", "uri", "response") if name not in params]
    if missing:
        raise ParseError(f"digest credentials without {', '.join(missing)}")
    qop = params.get("qop") or None
    return DigestCredentials(
        username=params["username"],
        realm=params["realm"],
        nonce=params["nonce"],
        uri=params["uri"],
        response=params["response"],
        algorithm=params.get("algorithm", "MD5").upper(),
        qop=qop.lower() if qop else None,
        nc=params.get("nc", ""),
        cnonce=params.get("cnonce", ""),
        opaque=params.get("opaque"),
    )


def challenge_header(
    realm: str, nonce: str, *, algorithm: str = "MD5", opaque: str | None = None, stale: bool = False
) -> str:
    """A WWW-Authenticate value offering qop=auth (RFC 7616 3.3)."""
    parts = [
        f'realm="{_quote(realm)}"',
        'qop="auth"',
        f"algorithm={algorithm}",
        f'nonce="{_quote(nonce)}"',
    ]
    if opaque is not None:
        parts.append(f'opaque="{_quote(opaque)}"')
    if stale:
        parts.append("stale=true")
    return "Digest " + ", ".join(parts)


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
    """True when ``response`` is what a client knowing the password would send.

    Never raises: an unknown algorithm or qop simply does not check out (hostile input).
    """
    if not stored_ha1 or algorithm.upper().removesuffix("-SESS") not in _HASHES:
        return False
    if qop not in (None, "", "auth"):
        return False  # auth-int needs the body; we offer qop=auth only
    key = stored_ha1
    if algorithm.upper().endswith("-SESS"):
        key = _server_hash(algorithm, f"{stored_ha1}:{nonce}:{cnonce}")
    ha2 = _server_hash(algorithm, f"{method}:{uri}")
    if qop:
        expected = _server_hash(algorithm, f"{key}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    else:
        expected = _server_hash(algorithm, f"{key}:{nonce}:{ha2}")
    return hmac.compare_digest(expected.encode(), response.lower().encode("utf-8", "replace"))
