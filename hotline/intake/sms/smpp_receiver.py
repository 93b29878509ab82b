"""``python -m hotline.intake.sms.smpp_receiver``: what the SMSC sends back over SMPP 3.4 (the
launcher's ``smpp`` child, started when HOTLINE_SMS_PROVIDER=smpp).

It binds as a receiver with the provider's account and stays bound: it answers enquire_link,
sends its own when the line has been quiet, and reconnects with a growing pause (1 s doubling
to a minute) when the SMSC drops it or refuses it. Each deliver_sm (or data_sm) is
- a delivery receipt: the outbound message's status (``record_delivery``); a receipt that
  arrives before ``send_sms`` has recorded its message is tried again for a while;
- a citizen's message: decoded by its data_coding, its parts put together by their UDH (or SAR)
  reference, and taken by ``receive_sms`` (TD opts out; anything else becomes or joins an
  order and is answered).
The answer to the SMSC comes after the message is stored, so one lost in a crash is delivered
again (and recognised: ``smpp_codec.mo_message_id``); a database failure answers "temporary
error" so that the SMSC retries. A PDU that cannot be read is logged and answered with
generic_nack, and the session goes on; a broken frame drops the connection and binds again.
"""

from __future__ import annotations

import logging
import random
import select
import signal
import threading
import time
from collections import deque
from types import FrameType
from typing import Any

import smpplib.consts as c
import smpplib.exceptions
import smpplib.smpp
from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from smpplib.command_codes import commands

from hotline.intake.sms import smpp_codec as codec
from hotline.intake.sms.smpp import MalformedPdu, SmppClient, message_id_for, text_of

log = logging.getLogger("hotline.intake.sms.smpp")

ENQUIRE_LINK_S = 30.0  # quiet this long and we ask whether the SMSC is still there
RECEIPT_RETRY_S = 120.0  # how long a receipt waits for its message to be recorded
RESPONSES = {"deliver_sm": "deliver_sm_resp", "data_sm": "data_sm_resp"}


class SmppReceiver:
    def __init__(self, host: str, port: int, system_id: str, password: str, *,
                 enquire_link_s: float = ENQUIRE_LINK_S, timeout: float = 10.0,
                 backoff: tuple[float, float] = (1.0, 60.0), poll_s: float = 0.5,
                 reassembler: codec.Reassembler | None = None) -> None:
        self.host, self.port, self.system_id, self.password = host, port, system_id, password
        self.enquire_link_s, self.timeout, self.poll_s = enquire_link_s, timeout, poll_s
        self.backoff = backoff
        self.parts = reassembler or codec.Reassembler()
        self.unmatched: deque[tuple[float, codec.DeliveryReceipt]] = deque(maxlen=10_000)
        self.binds = 0  # how many times it bound (tests and logs watch it reconnect)
        self.bound = threading.Event()
        self._stop = threading.Event()
        self._next_tick = 0.0

    @classmethod
    def from_settings(cls, **options: Any) -> SmppReceiver:
        return cls(settings.HOTLINE_SMPP_HOST, settings.HOTLINE_SMPP_PORT,
                   settings.HOTLINE_SMPP_SYSTEM_ID, settings.HOTLINE_SMPP_PASSWORD, **options)

    def stop(self) -> None:
        self._stop.set()

    # --- the connection -------------------------------------------------------------------

    def run(self) -> None:
        delay = self.backoff[0]
        try:
            while not self._stop.is_set():
                if self._session():
                    delay = self.backoff[0]
                pause = delay * random.uniform(1.0, 1.25)  # receivers restarted together spread
                if self._stop.wait(pause):
                    break
                delay = min(delay * 2, self.backoff[1])
        finally:
            connections.close_all()

    def _session(self) -> bool:
        """One connection, until it breaks or we stop; True when it got bound."""
        client = SmppClient(self.host, self.port, self.timeout)
        where = f"SMSC {self.host}:{self.port}"
        try:
            client.connect()
            client.bind_receiver(system_id=self.system_id, password=self.password)
        except smpplib.exceptions.PDUError as exc:
            log.error("%s refused the receiver's bind: %s", where, exc.args[0])
            client.close()
            return False
        except (smpplib.exceptions.ConnectionError, MalformedPdu, OSError) as exc:
            log.warning("%s: no connection (%r)", where, exc)
            client.close()
            return False
        self.binds += 1
        self.bound.set()
        log.info("bound to %s as a receiver", where)
        try:
            self._serve(client)
            self._unbind(client)
        except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError, OSError) as exc:
            log.warning("%s: the connection broke (%r); binding again", where, exc)
        finally:
            self.bound.clear()
            client.close()
        return True

    def _serve(self, client: SmppClient) -> None:
        heard, probe_sent = time.monotonic(), 0.0
        while not self._stop.is_set():
            self._tick()
            readable, _, _ = select.select([client.fileno()], [], [], self.poll_s)
            now = time.monotonic()
            if not readable:
                if probe_sent and now - probe_sent > self.timeout:
                    raise smpplib.exceptions.ConnectionError("no answer to enquire_link")
                if not probe_sent and now - heard >= self.enquire_link_s:
                    client.send_pdu(smpplib.smpp.make_pdu("enquire_link", client=client))
                    probe_sent = now
                continue
            try:
                pdu = client.read_pdu()
            except MalformedPdu as bad:
                log.warning("a PDU that cannot be read (command 0x%08X, sequence %d): %s",
                            bad.command_id, bad.sequence, bad)
                client.answer_sequence("generic_nack", bad.sequence, _nack_status(bad))
                heard = now
                continue
            heard, probe_sent = now, 0.0
            if pdu.command == "unbind":
                client.answer("unbind_resp", pdu)
                raise smpplib.exceptions.ConnectionError("the SMSC unbound")
            self._dispatch(client, pdu)

    def _dispatch(self, client: SmppClient, pdu: Any) -> None:
        if pdu.command in RESPONSES:
            client.answer(RESPONSES[pdu.command], pdu, self._take(pdu))
        elif pdu.command == "enquire_link":
            client.answer("enquire_link_resp", pdu)
        elif pdu.command == "generic_nack":
            log.warning("the SMSC rejected our PDU %d: 0x%08X", pdu.sequence, pdu.status)
        elif pdu.is_request():
            client.answer("generic_nack", pdu, c.SMPP_ESME_RINVCMDID)
        # other responses (enquire_link_resp) need nothing

    def _unbind(self, client: SmppClient) -> None:
        try:
            client.send_pdu(smpplib.smpp.make_pdu("unbind", client=client))
            deadline = time.monotonic() + min(self.timeout, 3.0)  # stopping: do not linger
            while time.monotonic() < deadline and client.read_pdu().command != "unbind_resp":
                pass
        except (smpplib.exceptions.ConnectionError, MalformedPdu, OSError) as exc:
            log.info("the unbind did not finish: %r", exc)

    # --- what the SMSC delivers -----------------------------------------------------------

    def _take(self, pdu: Any) -> int:
        """Handle one deliver_sm; the command_status of our answer."""
        close_old_connections()  # a long-running process: the database may have gone away
        try:
            esm_class = int(pdu.esm_class or 0)
            if esm_class & codec.ESM_TYPE_MASK == codec.ESM_RECEIPT:
                self._take_receipt(pdu)
            elif esm_class & codec.ESM_TYPE_MASK:
                log.info("ignored a deliver_sm of message type 0x%02X", esm_class)
            else:
                self._take_message(pdu, esm_class)
        except codec.MalformedMessage as exc:
            log.warning("a message that cannot be read from %s: %s",
                        text_of(pdu.source_addr), exc)
            return c.SMPP_ESME_RX_P_APPN  # delivering it again will not help
        except Exception:  # the database, most likely: the SMSC should try again later
            log.exception("could not take a deliver_sm")
            return c.SMPP_ESME_RX_T_APPN
        return c.SMPP_ESME_ROK

    def _take_receipt(self, pdu: Any) -> None:
        text = codec.decode_text(_payload(pdu), int(pdu.data_coding or 0))
        state = getattr(pdu, "message_state", None)
        receipt = codec.parse_receipt(text, text_of(getattr(pdu, "receipted_message_id", None)),
                                      int(state) if state is not None else None)
        if receipt is None:
            raise codec.MalformedMessage(f"a receipt without an id or a state: {text[:80]!r}")
        if not receipt.final:
            log.info("SMPP message %s is %s", receipt.message_id, receipt.stat)
        elif not self._record(receipt):
            self.unmatched.append((time.monotonic(), receipt))

    def _record(self, receipt: codec.DeliveryReceipt) -> bool:
        """Apply a receipt; False when its message is not recorded (yet)."""
        from hotline.intake.models import SmsMessage  # models load after django.setup()
        from hotline.intake.sms.inbound import record_delivery

        message_id = message_id_for(receipt.message_id)
        if record_delivery(provider="smpp", provider_id=message_id, delivered=receipt.delivered,
                           error=receipt.error, failure_sticks=True):
            return True
        # Nothing matched: a "delivered" is done when it met a failed message (which stays so);
        # otherwise the message is not recorded yet (send_sms writes it after the SMSC's
        # answer, and the receipt can be quicker).
        return receipt.delivered and SmsMessage.objects.filter(
            direction=SmsMessage.Direction.OUTBOUND, provider_id=message_id,
            status=SmsMessage.Status.FAILED).exists()

    def _take_message(self, pdu: Any, esm_class: int) -> None:
        payload, source = _payload(pdu), text_of(pdu.source_addr)
        destination, coding = text_of(pdu.destination_addr), int(pdu.data_coding or 0)
        if esm_class & codec.ESM_UDHI:
            segment, payload = codec.split_udh(payload)
        else:
            segment = codec.sar_segment(getattr(pdu, "sar_msg_ref_num", None),
                                        getattr(pdu, "sar_total_segments", None),
                                        getattr(pdu, "sar_segment_seqnum", None))
        if segment is None:
            self._hand_on(source, destination, coding, payload, None,
                          text_of(getattr(pdu, "receipted_message_id", None)))
            return
        key = (source, destination, segment.reference, segment.total, coding)
        whole = self.parts.add(key, segment.number, payload, time.monotonic())
        if whole is not None:
            self._hand_on(source, destination, coding, whole, segment.reference)
            self.parts.discard(key)  # only once it is stored: a retried last part completes it

    def _hand_on(self, source: str, destination: str, coding: int, payload: bytes,
                 reference: int | None, smsc_id: str = "") -> None:
        if not source:
            raise codec.MalformedMessage("a message without a source address")
        from hotline.intake.sms.inbound import receive_sms  # models load after django.setup()

        now = timezone.now()
        message_id = smsc_id or codec.mo_message_id(source, destination, payload, reference, now)
        receive_sms(provider="smpp", provider_id=message_id, phone=source,
                    text=codec.decode_text(payload, coding), to=destination, at=now)

    def _tick(self) -> None:
        """What waits for time (once a second): incomplete long messages, receipts that came
        before their message was recorded."""
        now = time.monotonic()
        if now < self._next_tick:
            return
        self._next_tick = now + 1.0
        for (source, destination, reference, _total, coding), payload in self.parts.expired(now):
            log.warning("a long message from %s stayed incomplete: taking what arrived", source)
            try:
                self._hand_on(source, destination, coding, payload, reference)
            except Exception:
                log.exception("could not take the incomplete message from %s", source)
        for _ in range(len(self.unmatched)):
            first_seen, receipt = self.unmatched.popleft()
            try:
                if self._record(receipt):
                    continue
            except Exception:
                log.exception("could not record the receipt of %s", receipt.message_id)
            if now - first_seen < RECEIPT_RETRY_S:
                self.unmatched.append((first_seen, receipt))
            else:
                log.warning("a receipt for an unknown SMPP message %s (%s)",
                            receipt.message_id, receipt.stat)


def _payload(pdu: Any) -> bytes:
    """The short message, or the message_payload TLV that replaces it for long content."""
    for name in ("short_message", "message_payload"):
        value = getattr(pdu, name, None)
        if value:
            return bytes(value) if not isinstance(value, str) else value.encode("latin-1")
    return b""


def _nack_status(bad: MalformedPdu) -> int:
    return c.SMPP_ESME_RINVCMDLEN if bad.command_id in commands.values() else c.SMPP_ESME_RINVCMDID


def main() -> None:  # pragma: no cover - the launcher's child
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")
    django.setup()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    receiver = SmppReceiver.from_settings()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        receiver.stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    log.info("SMPP receiver for %s:%d (system_id %s)", receiver.host, receiver.port,
             receiver.system_id)
    receiver.run()


if __name__ == "__main__":
    main()
