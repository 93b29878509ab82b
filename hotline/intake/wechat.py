"""WeChat official account (微信公众号) message push adapter, plaintext mode.

The public documentation's push interface: WeChat calls our URL with ``signature``,
``timestamp`` and ``nonce`` in the query; the signature is the SHA-1 of the three strings
``token``, ``timestamp``, ``nonce`` sorted and concatenated. A GET with ``echostr`` verifies the
URL (we echo ``echostr``); a POST carries one XML message (text, image, voice with
``Recognition``, location, event). WeChat waits 5 seconds for a passive XML reply and retries
three times, so the reply is built from ``do_receive``'s receipt (a retry with the same
``MsgId`` gets the first receipt back). The parsing and the reply are sans-I/O functions; the
view at the bottom is a thin adapter. Safe mode (``encrypt_type=aes``: the body's ``Encrypt``
signed by ``msg_signature``) is decrypted and answered encrypted, see ``wechat_crypto``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hotline.intake import wechat_crypto
from hotline.intake.messages import InboundMessage, Outcome, Receipt

MAX_BODY = 64 * 1024  # a push is a few hundred bytes; anything far larger is not WeChat's
EVENT_TYPES = ("subscribe", "unsubscribe", "CLICK", "VIEW", "LOCATION", "SCAN")


class WeChatError(ValueError):
    """A push we cannot read (the view answers 400 with ``str(error)``)."""


def signature(token: str, timestamp: str, nonce: str) -> str:
    # SHA-1 is what the WeChat protocol prescribes, not our choice.
    digest = hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode(), usedforsecurity=False)
    return digest.hexdigest()


def signature_ok(token: str, timestamp: str, nonce: str, given: str) -> bool:
    if not (token and timestamp and nonce and given):
        return False
    return hmac.compare_digest(signature(token, timestamp, nonce), given.lower())


@dataclass(frozen=True)
class Push:
    """One pushed message as the documentation names its fields."""

    to_user: str  # the official account's id
    from_user: str  # the citizen's openid
    create_time: int
    msg_type: str
    fields: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


def parse_push(body: bytes) -> Push:
    """The message in ``body``; WeChatError for anything that is not one (entities, DTDs and
    other XML bombs are refused by defusedxml)."""
    if len(body) > MAX_BODY:
        raise WeChatError(gettext_noop("the message is too large"))
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException, ValueError) as error:
        raise WeChatError(gettext_noop("the message is not valid XML")) from error
    if root.tag != "xml":
        raise WeChatError(gettext_noop("the message is not a WeChat push"))
    fields = {child.tag: (child.text or "").strip() for child in root if len(child) == 0}
    to_user, from_user = fields.get("ToUserName", ""), fields.get("FromUserName", "")
    msg_type = fields.get("MsgType", "")
    if not (to_user and from_user and msg_type):
        raise WeChatError(gettext_noop("ToUserName, FromUserName and MsgType are required"))
    try:
        created = int(fields.get("CreateTime", "0") or "0")
    except ValueError as error:
        raise WeChatError(gettext_noop("CreateTime is not a number")) from error
    return Push(to_user, from_user, created, msg_type, fields)


def inbound_message(push: Push, body: bytes) -> InboundMessage | None:
    """What ``do_receive`` takes for this push; None for a push that is no request (an
    unsubscribe, a menu link, a periodic location report)."""
    text, meta = "", {"wechat_msg_type": push.msg_type, "wechat_account": push.to_user[:64]}
    if push.msg_type == "text":
        text = push.get("Content")
    elif push.msg_type == "voice":
        # Speech recognition is the text; without it the agents hear the voice in WeChat.
        text = push.get("Recognition") or str(gettext_noop("(voice message)"))
        meta["media_id"] = push.get("MediaId")[:128]
    elif push.msg_type in ("image", "video", "shortvideo"):
        text = str(gettext_noop("(picture)")) if push.msg_type == "image" else str(
            gettext_noop("(video)"))
        meta["media_id"] = push.get("MediaId")[:128]
        meta["pic_url"] = push.get("PicUrl")[:255]
    elif push.msg_type == "location":
        text = push.get("Label") or f"{push.get('Location_X')},{push.get('Location_Y')}"
        meta.update(lat=push.get("Location_X")[:32], lon=push.get("Location_Y")[:32])
    elif push.msg_type == "link":
        text = f"{push.get('Title')}\n{push.get('Description')}\n{push.get('Url')}".strip()
    elif push.msg_type == "event":
        return None
    else:
        raise WeChatError(gettext_noop("unknown MsgType"))
    # Events carry no MsgId; messages do (retries carry the same one).
    message_id = push.get("MsgId") or f"{push.from_user}:{push.create_time}"
    return InboundMessage(
        channel="wechat", text=text, message_id=message_id[:255],
        identities=[("wechat", push.from_user[:128])], raw=body, raw_extension=".xml",
        address=push.get("Label")[:255] if push.msg_type == "location" else "",
        meta=meta)


def reply_text(push: Push, receipt: Receipt | None) -> str:
    """The passive reply's words (translated at call time)."""
    if receipt is None:
        if push.msg_type == "event" and push.get("Event") == "subscribe":
            return _("Welcome to the 12345 hotline. Send us your request, and we will reply "
                     "with its acceptance number.")
        return ""
    if receipt.outcome == Outcome.REFUSED:
        return _("Your message could not be taken: %(reason)s") % {"reason": _(receipt.reason)}
    if receipt.outcome == Outcome.ATTACHED:
        return _("Added to order %(number)s.") % {"number": receipt.order_number}
    if receipt.order_number:
        return _("Your request has been accepted. Acceptance number: %(number)s.") % {
            "number": receipt.order_number}
    return _("Your message has been received.")


def reply_xml(push: Push, text: str, now: int | None = None) -> bytes:
    """A passive text reply: from the account to the citizen (the push's names swapped)."""
    def cdata(value: str) -> str:
        return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"

    stamp = int(time.time()) if now is None else now
    return ("<xml><ToUserName>" + cdata(push.from_user) + "</ToUserName><FromUserName>"
            + cdata(push.to_user) + "</FromUserName><CreateTime>" + str(stamp)
            + "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>" + cdata(text)
            + "</Content></xml>").encode()


def wechat_token() -> str:
    return str(settings.HOTLINE_WECHAT_TOKEN)


def wechat_view(request: HttpRequest) -> HttpResponse:
    """The push URL (public: WeChat proves itself by the signature, not by a login)."""
    from hotline.intake.services import do_receive  # the view is the adapter's only I/O

    token = wechat_token()
    query = request.GET
    if not token or not signature_ok(token, query.get("timestamp", ""), query.get("nonce", ""),
                                     query.get("signature", "")):
        # 401, not 403: the caller is not who it claims (no valid signature); nothing is forbidden.
        return HttpResponse(escape(_("bad signature")), status=401,
                            content_type="text/plain; charset=utf-8")
    if request.method == "GET":
        return HttpResponse(escape(query.get("echostr", "")), content_type="text/plain")
    if request.method != "POST":
        return HttpResponse(status=405)
    body = request.body
    safe = query.get("encrypt_type", "") == "aes"
    try:
        if safe:
            body = _decrypted(body, token, query.get("timestamp", ""), query.get("nonce", ""),
                              query.get("msg_signature", ""))
        push = parse_push(body)
        message = inbound_message(push, body)
    except _Forbidden as error:
        return HttpResponse(_(str(error)), status=401, content_type="text/plain; charset=utf-8")
    except (WeChatError, wechat_crypto.CryptoError) as error:
        return HttpResponse(_(str(error)), status=400, content_type="text/plain; charset=utf-8")
    receipt = do_receive(message) if message is not None else None
    text = reply_text(push, receipt)
    if not text:
        return HttpResponse("success", content_type="text/plain")  # documented "no reply"
    reply = reply_xml(push, text)
    if safe:
        reply = _encrypted_reply(reply, token, query.get("nonce", ""))
    return HttpResponse(reply, content_type="application/xml; charset=utf-8")


class _Forbidden(WeChatError):
    pass


def _decrypted(body: bytes, token: str, timestamp: str, nonce: str, given: str) -> bytes:
    """The plaintext push inside a safe-mode body, after checking ``msg_signature``."""
    key_text, app_id = str(settings.HOTLINE_WECHAT_AES_KEY), str(settings.HOTLINE_WECHAT_APPID)
    if not (key_text and app_id):
        raise _Forbidden(gettext_noop("safe mode is not configured"))
    if len(body) > MAX_BODY:
        raise WeChatError(gettext_noop("the message is too large"))
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException, ValueError) as error:
        raise WeChatError(gettext_noop("the message is not valid XML")) from error
    encrypted = (root.findtext("Encrypt") or "").strip()
    if not encrypted:
        raise WeChatError(gettext_noop("Encrypt is required in safe mode"))
    expected = wechat_crypto.msg_signature(token, timestamp, nonce, encrypted)
    if not hmac.compare_digest(expected, given.lower()):
        raise _Forbidden(gettext_noop("bad signature"))
    return wechat_crypto.decrypt(wechat_crypto.aes_key(key_text), app_id, encrypted)


def _encrypted_reply(reply: bytes, token: str, nonce: str) -> bytes:
    key = wechat_crypto.aes_key(str(settings.HOTLINE_WECHAT_AES_KEY))
    encrypted = wechat_crypto.encrypt(key, str(settings.HOTLINE_WECHAT_APPID), reply)
    stamp = str(int(time.time()))
    sig = wechat_crypto.msg_signature(token, stamp, nonce, encrypted)
    return (f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{sig}]]>"
            f"</MsgSignature><TimeStamp>{stamp}</TimeStamp><Nonce><![CDATA[{escape(nonce)}]]>"
            f"</Nonce></xml>").encode()
