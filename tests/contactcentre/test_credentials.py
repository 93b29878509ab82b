"""SIP digest credentials stored as HA1: a response made by the client side of the project
(hotline.voice.sip.auth, itself tested against the RFC vectors) checks out from HA1 alone."""

from __future__ import annotations

import pytest

from hotline.core.digest import ha1
from hotline.voice.sip.auth import DigestChallenge, check_response, digest_response


def test_rfc2617_ha1() -> None:
    # RFC 2617 3.5: Mufasa / testrealm@host.com / Circle Of Life
    assert ha1("Mufasa", "testrealm@host.com", "Circle Of Life") == \
        "939e7578ed9e3c518a452acee763bce9"


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256", "MD5-sess", "SHA-256-sess"])
@pytest.mark.parametrize("qop", [None, "auth"])
def test_client_responses_check_out_from_ha1(algorithm: str, qop: str | None) -> None:
    challenge = DigestChallenge(realm="hotline", nonce="abc123", algorithm=algorithm.upper(),
                                qop=("auth",) if qop else ())
    response = digest_response(challenge, username="8001", password="s3cret-pw",
                               method="REGISTER", uri="sip:hotline", cnonce="c0ffee", nc=1,
                               qop=qop)
    stored = ha1("8001", "hotline", "s3cret-pw", algorithm)
    common = dict(algorithm=algorithm, nonce="abc123", method="REGISTER", uri="sip:hotline",
                  qop=qop, nc="00000001", cnonce="c0ffee")
    assert check_response(stored, response=response, **common)  # type: ignore[arg-type]
    wrong = ha1("8001", "hotline", "wrong-password", algorithm)
    assert not check_response(wrong, response=response, **common)  # type: ignore[arg-type]
    assert not check_response(stored, response="0" * len(response), **common)  # type: ignore[arg-type]
    assert not check_response("", response=response, **common)  # type: ignore[arg-type]
