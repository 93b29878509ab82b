import pytest

from hotline.voice.sip.auth import authorization, digest_response, parse_challenge
from hotline.voice.sip.message import ParseError, split_list


def test_rfc2617_example() -> None:
    challenge = parse_challenge(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    assert challenge.qop == ("auth", "auth-int") and challenge.algorithm == "MD5"
    header = authorization(challenge, username="Mufasa", password="Circle Of Life",
                           method="GET", uri="/dir/index.html", cnonce="0a4f113b")
    assert 'response="6629fae49393a05397450978507c4ef1"' in header
    assert "nc=00000001" in header and "qop=auth" in header
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in header


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_examples(algorithm: str, expected: str) -> None:
    challenge = parse_challenge(
        f'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    )
    response = digest_response(
        challenge, username="Mufasa", password="Circle of Life", method="GET",
        uri="/dir/index.html", cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        nc=1, qop="auth",
    )
    assert response == expected


def test_challenge_without_qop_as_asterisk_sends_it() -> None:
    challenge = parse_challenge('Digest algorithm=MD5, realm="asterisk", nonce="1c2b3a4d"')
    header = authorization(challenge, username="1001", password="secret", method="REGISTER",
                           uri="sip:pbx.example.org")
    assert "qop=" not in header and "cnonce=" not in header
    fields = dict(item.split("=", 1) for item in split_list(header.removeprefix("Digest ")))
    expected = digest_response(challenge, username="1001", password="secret",
                               method="REGISTER", uri="sip:pbx.example.org", cnonce="")
    assert fields["response"] == f'"{expected}"'


@pytest.mark.parametrize(
    "value",
    ['Basic realm="x"', 'Digest realm="x"', 'Digest nonce="n"',
     'Digest realm="x", nonce="n", algorithm=SHA-1', 'Digest realm="x", nonce="n", bogus',
     'Digest realm="x, nonce="n"'],
)
def test_bad_challenges(value: str) -> None:
    with pytest.raises(ParseError):
        parse_challenge(value)
