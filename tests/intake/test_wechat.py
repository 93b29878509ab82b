"""WeChat official account push: signature, XML messages from the public documentation's
examples, passive replies, openid as identity, retries recorded once, bad input 400/401."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hotline.intake.models import ReceivedMessage
from hotline.intake.wechat import parse_push, signature
from hotline.orders.models import Citizen, Order

pytestmark = pytest.mark.django_db
TOKEN = "test-wechat-token"
URL = "/intake/wechat/"


@pytest.fixture(autouse=True)
def token(settings: Any) -> None:
    settings.HOTLINE_WECHAT_TOKEN = TOKEN


def signed(timestamp: str = "1348831860", nonce: str = "1234567", **extra: str) -> str:
    query = {"signature": signature(TOKEN, timestamp, nonce), "timestamp": timestamp,
             "nonce": nonce, **extra}
    return URL + "?" + "&".join(f"{k}={v}" for k, v in query.items())


def text_push(content: str = "鼓楼区东街路灯坏了三天", msg_id: str = "1234567890123456",
              openid: str = "oUser_abc123") -> bytes:
    # The documentation's text message example, with our words.
    return (f"<xml><ToUserName><![CDATA[gh_toUser]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>").encode()


def post(client: Client, body: bytes, url: str | None = None) -> Any:
    return client.post(url or signed(), data=body, content_type="text/xml")


def test_get_verification_echoes_echostr_only_with_a_good_signature(client: Client) -> None:
    response = client.get(signed(echostr="5837397520817"))
    assert response.status_code == 200 and response.content == b"5837397520817"
    bad = URL + "?signature=00&timestamp=1&nonce=2&echostr=x"
    assert client.get(bad).status_code == 401


def test_signature_is_sha1_of_the_sorted_strings() -> None:
    import hashlib
    expected = hashlib.sha1("".join(sorted(["tok", "1409304348", "xxxxxx"])).encode()).hexdigest()
    assert signature("tok", "1409304348", "xxxxxx") == expected


def test_a_text_message_creates_an_order_and_the_reply_names_it(client: Client, city: Any) -> None:
    response = post(client, text_push())
    assert response.status_code == 200
    reply = parse_push(response.content)
    assert reply.to_user == "oUser_abc123" and reply.from_user == "gh_toUser"
    assert reply.msg_type == "text"
    order = Order.objects.get(channel="wechat")
    assert order.number in reply.get("Content")
    assert order.citizen.identities.filter(kind="wechat", value="oUser_abc123").exists()
    record = ReceivedMessage.objects.get(channel="wechat")
    assert record.message_id == "1234567890123456" and record.raw.read() == text_push()


def test_a_retry_with_the_same_msgid_is_recorded_once(client: Client, city: Any) -> None:
    first = post(client, text_push())
    for _ in range(3):
        again = post(client, text_push())
        assert again.status_code == 200
        assert parse_push(again.content).get("Content") == parse_push(first.content).get("Content")
    assert Order.objects.filter(channel="wechat").count() == 1
    assert ReceivedMessage.objects.filter(channel="wechat").count() == 1


def test_quoting_the_number_adds_to_the_citizens_order(client: Client, city: Any) -> None:
    post(client, text_push())
    order = Order.objects.get(channel="wechat")
    response = post(client, text_push(f"补充：{order.number} 还是不亮", msg_id="222"))
    content = parse_push(response.content).get("Content")
    assert order.number in content and ("已补充" in content or "Added to order" in content)
    assert Order.objects.filter(channel="wechat").count() == 1
    # Another openid quoting the number does not reach that order.
    post(client, text_push(f"{order.number} 我也是", msg_id="333", openid="oOther"))
    assert Order.objects.filter(channel="wechat").count() == 2


def test_voice_uses_recognition_and_location_its_label(client: Client, city: Any) -> None:
    voice = (b"<xml><ToUserName><![CDATA[gh_toUser]]></ToUserName><FromUserName>"
             b"<![CDATA[oVoice]]></FromUserName><CreateTime>1357290913</CreateTime><MsgType>"
             b"<![CDATA[voice]]></MsgType><MediaId><![CDATA[media_id]]></MediaId><Format>"
             b"<![CDATA[amr]]></Format><Recognition><![CDATA["
             + "台江区万宝路口积水很深".encode() + b"]]></Recognition><MsgId>1234567890123456"
             b"</MsgId></xml>")
    assert post(client, voice).status_code == 200
    assert "积水很深" in Order.objects.get(channel="wechat").text
    location = (b"<xml><ToUserName><![CDATA[gh_toUser]]></ToUserName><FromUserName>"
                b"<![CDATA[oLoc]]></FromUserName><CreateTime>1351776360</CreateTime><MsgType>"
                b"<![CDATA[location]]></MsgType><Location_X>26.08</Location_X><Location_Y>"
                b"119.30</Location_Y><Scale>20</Scale><Label><![CDATA["
                + "福州市鼓楼区东街".encode() + b"]]></Label><MsgId>1234567890123457</MsgId></xml>")
    assert post(client, location).status_code == 200
    assert Order.objects.filter(channel="wechat", address="福州市鼓楼区东街").exists()


def test_image_message_is_taken(client: Client, city: Any) -> None:
    image = (b"<xml><ToUserName><![CDATA[gh_toUser]]></ToUserName><FromUserName>"
             b"<![CDATA[oImg]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType>"
             b"<![CDATA[image]]></MsgType><PicUrl><![CDATA[http://example.org/p.jpg]]></PicUrl>"
             b"<MediaId><![CDATA[media_id]]></MediaId><MsgId>1234567890123458</MsgId></xml>")
    response = post(client, image)
    assert response.status_code == 200 and b"<Content>" in response.content
    assert ReceivedMessage.objects.get(channel="wechat").meta["media_id"] == "media_id"


@pytest.mark.parametrize("event,expect_reply", [("subscribe", True), ("unsubscribe", False),
                                                 ("CLICK", False)])
def test_events_record_nothing_and_welcome_a_subscriber(
        client: Client, city: Any, event: str, expect_reply: bool) -> None:
    body = (f"<xml><ToUserName><![CDATA[gh_toUser]]></ToUserName><FromUserName>"
            f"<![CDATA[oEvt]]></FromUserName><CreateTime>123456789</CreateTime><MsgType>"
            f"<![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event><EventKey>"
            f"<![CDATA[V1001]]></EventKey></xml>").encode()
    response = post(client, body)
    assert response.status_code == 200
    assert (b"<Content>" in response.content) is expect_reply
    if not expect_reply:
        assert response.content == b"success"
    assert not ReceivedMessage.objects.exists() and not Citizen.objects.filter(
        identities__value="oEvt").exists()


@pytest.mark.parametrize("body", [
    b"not xml at all",
    b"<xml><ToUserName>a</ToUserName>",
    b"<other><ToUserName>a</ToUserName></other>",
    b"<xml><ToUserName>a</ToUserName><MsgType>text</MsgType></xml>",
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
    b"<xml><ToUserName>&lol2;</ToUserName></xml>",
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b"<xml><ToUserName>&e;</ToUserName></xml>",
    b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><MsgType>zzz</MsgType>"
    b"<CreateTime>1</CreateTime></xml>",
    b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><MsgType>text</MsgType>"
    b"<CreateTime>soon</CreateTime></xml>",
])
def test_malformed_pushes_get_400(client: Client, body: bytes) -> None:
    response = post(client, body)
    assert response.status_code == 400 and response.content


def test_a_bad_signature_or_no_token_is_refused(client: Client, settings: Any) -> None:
    wrong = signed().replace("signature=", "signature=ff")
    assert post(client, text_push(), wrong).status_code == 401
    settings.HOTLINE_WECHAT_TOKEN = ""
    assert post(client, text_push()).status_code == 401
    assert not ReceivedMessage.objects.exists()


AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # the documentation's 43-char shape
APPID = "wx1234567890abcdef"


def test_safe_mode_decrypts_the_push_and_encrypts_the_reply(
        client: Client, city: Any, settings: Any) -> None:
    from hotline.intake import wechat_crypto as wc
    settings.HOTLINE_WECHAT_AES_KEY = AES_KEY
    settings.HOTLINE_WECHAT_APPID = APPID
    key = wc.aes_key(AES_KEY)
    encrypted = wc.encrypt(key, APPID, text_push())
    body = (f"<xml><ToUserName><![CDATA[gh_toUser]]></ToUserName><Encrypt><![CDATA[{encrypted}]]>"
            f"</Encrypt></xml>").encode()
    sig = wc.msg_signature(TOKEN, "1409304348", "xxxxxx", encrypted)
    url = signed("1409304348", "xxxxxx", encrypt_type="aes", msg_signature=sig)
    response = post(client, body, url)
    assert response.status_code == 200
    outer = parse_push_outer(response.content)
    assert outer["MsgSignature"] == wc.msg_signature(TOKEN, outer["TimeStamp"], "xxxxxx",
                                                      outer["Encrypt"])
    inner = parse_push(wc.decrypt(key, APPID, outer["Encrypt"]))
    assert Order.objects.get(channel="wechat").number in inner.get("Content")
    # A wrong msg_signature is 401; a ciphertext for another AppID is 400.
    bad = signed("1409304348", "xxxxxx", encrypt_type="aes", msg_signature="00")
    assert post(client, body, bad).status_code == 401
    other = wc.encrypt(key, "wxother", text_push(msg_id="9"))
    body2 = f"<xml><Encrypt><![CDATA[{other}]]></Encrypt></xml>".encode()
    url2 = signed("1", "2", encrypt_type="aes",
                  msg_signature=wc.msg_signature(TOKEN, "1", "2", other))
    assert post(client, body2, url2).status_code == 400


def parse_push_outer(content: bytes) -> dict[str, str]:
    import defusedxml.ElementTree as SafeET
    return {child.tag: child.text or "" for child in SafeET.fromstring(content)}
