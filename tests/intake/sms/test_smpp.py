"""The SMPP 3.4 provider and receiver against a real SMSC on loopback (``smsc.py``): notifications
out in UCS-2 (in parts when long), their receipts, citizens' messages in (one part or two, TD),
and what goes wrong: a refused bind, an error status, a silent SMSC, a dropped connection and
PDUs that cannot be read."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotline.intake.models import SmsMessage, SmsOptOut
from hotline.intake.sms import smpp_codec as codec
from hotline.intake.sms.outbound import send_sms
from hotline.intake.sms.providers import ProviderError, provider
from hotline.intake.sms.smpp import SmppProvider
from hotline.intake.sms.smpp_receiver import SmppReceiver
from hotline.orders.models import Order
from tests.intake.sms.smsc import DELIVER_SM, ESME_RINVCMDID, Smsc, deliver_sm_body, pdu, wait_until

SYSTEM_ID, PASSWORD = "hotline", "s3cret"
PHONE = "13800001111"
RX_P_APPN = 0x65
ROOT = Path(__file__).resolve().parents[3]
LIVE = pytest.mark.django_db(transaction=True)  # the receiver writes from its own thread


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    server = Smsc(SYSTEM_ID, PASSWORD).start()
    yield server
    server.stop()


@pytest.fixture
def smpp(settings: Any, smsc: Smsc) -> Smsc:
    settings.HOTLINE_SMS_PROVIDER = "smpp"
    settings.HOTLINE_SMPP_HOST = "127.0.0.1"
    settings.HOTLINE_SMPP_PORT = smsc.port
    settings.HOTLINE_SMPP_SYSTEM_ID = SYSTEM_ID
    settings.HOTLINE_SMPP_PASSWORD = PASSWORD
    settings.HOTLINE_SMPP_SOURCE = "12345"
    return smsc


@pytest.fixture
def receiver(smpp: Smsc, city: Any) -> Iterator[SmppReceiver]:
    running = SmppReceiver.from_settings(enquire_link_s=1.0, timeout=10.0, backoff=(0.05, 0.5),
                                         poll_s=0.05)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    assert running.bound.wait(30), "the receiver did not bind"
    yield running
    running.stop()
    thread.join(30)
    assert not thread.is_alive()


def status_of(message: SmsMessage) -> str:
    message.refresh_from_db()
    return message.status


# --- out -------------------------------------------------------------------------------------

@LIVE
def test_a_chinese_notification_reaches_the_smsc_and_its_receipt_marks_it_delivered(
        receiver: SmppReceiver, smsc: Smsc) -> None:
    text = "您的工单202405010001已受理，我们将尽快处理。回复TD退订"
    assert isinstance(provider(), SmppProvider)
    sent = send_sms(PHONE, text, purpose="accepted")
    assert sent.sent, sent.error
    assert smsc.texts() == [(PHONE, text)]
    (submitted,) = smsc.submitted
    assert (submitted.data_coding, submitted.registered_delivery, submitted.source,
            submitted.system_id, submitted.esm_class) == (8, 1, "12345", SYSTEM_ID, 0)
    message = SmsMessage.objects.get(direction="out")
    assert (message.provider, message.provider_id) == ("smpp", submitted.message_id)
    assert wait_until(lambda: status_of(message) == "delivered")
    assert message.delivered_at is not None and message.error == ""


@LIVE
def test_a_failed_receipt_marks_the_message_failed(receiver: SmppReceiver, smsc: Smsc) -> None:
    smsc.stat_for = lambda submitted: "UNDELIV"
    smsc.receipt_tlvs = True  # receipted_message_id and message_state, as well as the text
    sent = send_sms(PHONE, "您的工单已办结", purpose="closed")
    assert sent.sent
    message = SmsMessage.objects.get(direction="out")
    assert wait_until(lambda: status_of(message) == "failed")
    assert message.error == "UNDELIV err:001" and message.delivered_at is None


@LIVE
def test_a_long_message_goes_in_parts_and_one_failed_part_fails_it(receiver: SmppReceiver,
                                                                   smsc: Smsc) -> None:
    text = "".join(f"第{n}段：关于您反映的鼓楼区东街路灯不亮问题，已转市城管局处理。" for n in range(5))
    assert 134 < len(text) <= 201  # three UCS-2 parts of 67 characters
    # The SMSC fails the second part only; its receipt comes between two "delivered".
    smsc.stat_for = lambda submitted: "UNDELIV" if submitted.part[2] == 2 else "DELIVRD"
    assert send_sms(PHONE, text, purpose="reply").sent
    assert smsc.texts() == [(PHONE, text)]
    parts = list(smsc.submitted)
    assert [p.part[1:3] for p in parts] == [(3, 1), (3, 2), (3, 3)]
    assert len({p.part[0] for p in parts}) == 1 and {p.esm_class for p in parts} == {0x40}
    message = SmsMessage.objects.get(direction="out")
    assert message.provider_id == parts[0].message_id and message.parts == 3
    assert wait_until(lambda: len(smsc.answers) == 3 and status_of(message) == "failed")
    assert message.error == "UNDELIV err:001"
    # All parts delivered: the message is delivered, whichever part's receipt came last.
    smsc.stat_for = lambda submitted: "DELIVRD"
    assert send_sms(PHONE, text, purpose="reply").sent
    second = SmsMessage.objects.exclude(pk=message.pk).get(direction="out")
    assert wait_until(lambda: len(smsc.answers) == 6 and status_of(second) == "delivered")
    assert status_of(message) == "failed"


@pytest.mark.django_db
def test_every_failure_is_a_failed_message_never_an_exception(smpp: Smsc, settings: Any,
                                                               city: Any) -> None:
    settings.HOTLINE_SMPP_PASSWORD = "wrong"
    refused = send_sms(PHONE, "您的验证码是123456", purpose="verify")
    assert refused.status == "failed" and "Invalid Password" in refused.error, refused.error
    assert smpp.binds == [("transmitter", SYSTEM_ID, 0x0E)] and not smpp.submitted
    assert SmsMessage.objects.get().status == "failed"

    settings.HOTLINE_SMPP_PASSWORD = PASSWORD
    smpp.submit_status = 0x58  # ESME_RTHROTTLED
    throttled = send_sms(PHONE, "您的工单已受理", purpose="accepted")
    assert throttled.status == "failed" and "Throttling" in throttled.error, throttled.error

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        settings.HOTLINE_SMPP_PORT = closed.getsockname()[1]
    unreachable = send_sms(PHONE, "您的工单已受理", purpose="accepted")
    assert unreachable.status == "failed" and "could not be reached" in unreachable.error
    assert SmsMessage.objects.filter(status="failed").count() == 3

    smpp.submit_status, smpp.answer_submits = 0, False  # takes the bind, then says nothing
    silent = SmppProvider("127.0.0.1", smpp.port, SYSTEM_ID, PASSWORD, "12345", timeout=0.5)
    with pytest.raises(ProviderError, match=r"did not answer the submit within 0\.5 s"):
        silent.send(PHONE, "您好")


# --- in --------------------------------------------------------------------------------------

@LIVE
def test_a_citizens_sms_becomes_an_order_and_is_answered_with_its_number(
        receiver: SmppReceiver, smsc: Smsc) -> None:
    text = "路灯坏了，鼓楼区东街88号门口一周没亮了"
    (sequence,) = smsc.inject_mo(PHONE, text)
    assert wait_until(lambda: smsc.answers.get(sequence) == 0)
    order = Order.objects.get()
    assert (order.channel, order.citizen.phone) == ("sms", PHONE) and text in order.text
    inbound = SmsMessage.objects.get(direction="in")
    assert (inbound.provider, inbound.text, inbound.order) == ("smpp", text, order)
    assert wait_until(lambda: any(order.number in sent for _to, sent in smsc.texts()))
    # The SMSC delivers it again (our answer was lost): still one order, one answer.
    (again,) = smsc.inject_mo(PHONE, text)
    assert wait_until(lambda: smsc.answers.get(again) == 0)
    assert Order.objects.count() == 1 and len(smsc.texts()) == 1


@LIVE
def test_a_message_in_two_ucs2_parts_is_put_together(receiver: SmppReceiver, smsc: Smsc) -> None:
    text = ("我家楼下的餐馆每天晚上十一点以后还在外面摆桌子喝酒划拳，声音很大，"
            "老人孩子都睡不着觉，反映过好几次了，请有关部门管一管，地址是台江区新港街道。")
    assert len(text) > 70
    sequences = smsc.inject_mo(PHONE, text, parts=2)
    assert len(sequences) == 2
    assert wait_until(lambda: all(smsc.answers.get(s) == 0 for s in sequences))
    order = Order.objects.get()
    assert text in order.text
    assert SmsMessage.objects.get(direction="in").text == text


@LIVE
def test_td_opts_the_phone_out(receiver: SmppReceiver, smsc: Smsc) -> None:
    (sequence,) = smsc.inject_mo(PHONE, "TD")  # the default alphabet, data_coding 0
    assert wait_until(lambda: smsc.answers.get(sequence) == 0)
    assert SmsOptOut.objects.filter(phone=PHONE).exists() and not Order.objects.exists()
    assert wait_until(lambda: len(smsc.texts()) == 1)  # the confirmation
    assert not send_sms(PHONE, "您的工单已办结", purpose="closed").sent


# --- the connection --------------------------------------------------------------------------

@LIVE
def test_the_receiver_keeps_the_link_alive_and_binds_again_when_dropped(
        receiver: SmppReceiver, smsc: Smsc) -> None:
    assert wait_until(lambda: smsc.enquire_links >= 1)  # its own, after a quiet second
    probe = smsc.enquire_receivers()
    assert wait_until(lambda: probe in smsc.enquire_answers)
    assert smsc.receiver_binds() == 1
    smsc.drop_receivers()
    assert wait_until(lambda: smsc.receiver_binds() == 2 and smsc.receivers())
    (sequence,) = smsc.inject_mo(PHONE, "小区门口的井盖丢了，很危险")
    assert wait_until(lambda: smsc.answers.get(sequence) == 0)
    assert Order.objects.count() == 1


@LIVE
def test_pdus_that_cannot_be_read_do_not_stop_the_receiver(receiver: SmppReceiver,
                                                           smsc: Smsc) -> None:
    smsc.inject_raw(pdu(0x00000099, 9001, b"junk"))  # no such command
    assert wait_until(lambda: (9001, ESME_RINVCMDID) in smsc.nacks)
    smsc.inject_raw(pdu(DELIVER_SM, 9002, b"\x00\x01\x01"))  # a deliver_sm cut short
    assert wait_until(lambda: smsc.answers.get(9002) == RX_P_APPN
                      or any(seq == 9002 for seq, _status in smsc.nacks))
    bad_udh = smsc.inject(deliver_sm_body(PHONE, "12345", b"\x09\x00\x03", esm_class=0x40))
    no_id = smsc.inject(deliver_sm_body(PHONE, "12345", b"stat:DELIVRD", esm_class=0x04))
    assert wait_until(lambda: smsc.answers.get(bad_udh) == smsc.answers.get(no_id) == RX_P_APPN)
    (sequence,) = smsc.inject_mo(PHONE, "垃圾桶三天没人清了")
    assert wait_until(lambda: smsc.answers.get(sequence) == 0)
    assert Order.objects.count() == 1 and smsc.receiver_binds() == 1
    # A frame shorter than its own header: the stream is lost, so it binds again.
    smsc.inject_raw(struct.pack(">LLLL", 8, DELIVER_SM, 0, 9003))
    assert wait_until(lambda: smsc.receiver_binds() == 2 and smsc.receivers())
    (after,) = smsc.inject_mo(PHONE, "公交站牌被撞坏了")
    assert wait_until(lambda: smsc.answers.get(after) == 0)
    assert Order.objects.count() == 2


def test_the_receiver_process_binds_and_stops_cleanly_on_sigterm(smsc: Smsc,
                                                                 tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "DJANGO_"))}
    env.update(HOTLINE_ALLOW_DEV_SECRET="1", HOTLINE_DATA_DIR=str(tmp_path),
               HOTLINE_SMS_PROVIDER="smpp", HOTLINE_SMPP_HOST="127.0.0.1",
               HOTLINE_SMPP_PORT=str(smsc.port), HOTLINE_SMPP_SYSTEM_ID=SYSTEM_ID,
               HOTLINE_SMPP_PASSWORD=PASSWORD)
    child = subprocess.Popen([sys.executable, "-m", "hotline.intake.sms.smpp_receiver"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_until(lambda: smsc.receiver_binds() == 1 or child.poll() is not None, 60)
        assert child.poll() is None and smsc.receivers()
        child.send_signal(signal.SIGTERM)
        output, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, output
    assert wait_until(lambda: not smsc.receivers())  # it unbound


# --- settings ------------------------------------------------------------------------------

def test_the_smpp_settings_fail_loudly() -> None:
    from tests.test_env import _settings_value

    no_host = _settings_value("HOTLINE_SMPP_PORT", HOTLINE_SMS_PROVIDER="smpp")
    assert no_host.returncode != 0 and "needs HOTLINE_SMPP_HOST" in no_host.stderr
    too_long = _settings_value("HOTLINE_SMPP_PORT", HOTLINE_SMS_PROVIDER="smpp",
                               HOTLINE_SMPP_HOST="smsc.example", HOTLINE_SMPP_PASSWORD="123456789")
    assert too_long.returncode != 0 and "at most 8" in too_long.stderr


# --- the codec, without a socket ------------------------------------------------------------

def test_receipts_are_read_from_the_tlvs_or_the_text_before_its_quote() -> None:
    text = ("id:7F0A sub:001 dlvrd:000 submit date:2405011200 done date:2405011201 stat:UNDELIV "
            "err:034 text:stat:DELIVRD id:bogus")
    receipt = codec.parse_receipt(text)
    assert receipt == codec.DeliveryReceipt("7F0A", "UNDELIV", "034")
    assert not receipt.delivered and receipt.final and receipt.error == "UNDELIV err:034"
    tlvs = codec.parse_receipt(text, receipted_id="7F0B", message_state=2)
    assert tlvs is not None and (tlvs.message_id, tlvs.delivered, tlvs.error) == ("7F0B", True, "")
    enroute = codec.parse_receipt("id:1 stat:ENROUTE")
    assert enroute is not None and not enroute.final
    assert codec.parse_receipt("stat:DELIVRD") is None and codec.parse_receipt("id:5") is None


def test_concatenation_headers_and_codings() -> None:
    assert codec.split_udh(b"\x05\x00\x03\x2a\x02\x01abc") == (codec.Segment(0x2A, 2, 1), b"abc")
    assert codec.split_udh(b"\x06\x08\x04\x01\x02\x03\x03xy") == (codec.Segment(0x0102, 3, 3),
                                                                   b"xy")
    assert codec.split_udh(b"\x05\x00\x03\x2a\x02\x03abc") == (None, b"abc")  # part 3 of 2
    for broken in (b"", b"\x09\x00", b"\x03\x00\x03\x01"):
        with pytest.raises(codec.MalformedMessage):
            codec.split_udh(broken)
    assert codec.sar_segment(7, 2, 2) == codec.Segment(7, 2, 2)
    assert codec.sar_segment(None, 2, 1) is None
    assert len(codec.GSM_BASIC) == 128
    assert codec.decode_text(b"TD \x00\x02\x1b\x65", 0) == "TD @$€"
    assert codec.decode_text("路灯".encode("utf-16-be") + b"\x4e", 8) == "路灯\ufffd"
    assert codec.decode_text("😀".encode("utf-16-be"), 8) == "😀"
    assert codec.decode_text("café".encode("latin-1"), 3) == "café"


def test_parts_wait_for_each_other_and_an_incomplete_message_is_handed_on_in_time() -> None:
    parts = codec.Reassembler(max_age=60, max_pending=2)
    key = (PHONE, "12345", 9, 3, 8)
    assert parts.add(key, 2, b"B", now=0) is None and parts.add(key, 1, b"A", now=1) is None
    assert parts.add(key, 3, b"C", now=2) == b"ABC"
    parts.discard(key)
    assert len(parts) == 0
    parts.add((PHONE, "12345", 1, 2, 8), 1, b"X", now=0)
    parts.add(("13900002222", "12345", 1, 2, 8), 2, b"Y", now=10)
    assert parts.expired(now=30) == []
    assert parts.expired(now=61) == [((PHONE, "12345", 1, 2, 8), b"X")]
    for n in range(3):  # more than max_pending: the oldest goes on at once
        parts.add(("13700000000", "12345", n, 2, 8), 1, b"Z", now=20 + n)
    handed_on = [(key[0], key[2]) for key, _ in parts.expired(now=62)]
    assert handed_on == [("13900002222", 1), ("13700000000", 0)] and len(parts) == 2


def test_a_citizens_message_has_one_id_within_the_hour() -> None:
    at = dt.datetime(2024, 5, 1, 9, 10, tzinfo=dt.UTC)
    first = codec.mo_message_id(PHONE, "12345", b"hello", None, at)
    assert first == codec.mo_message_id(PHONE, "12345", b"hello", None, at.replace(minute=59))
    assert first != codec.mo_message_id(PHONE, "12345", b"hello", None, at.replace(hour=10))
    assert first != codec.mo_message_id(PHONE, "12345", b"hello", 7, at)
    assert first != codec.mo_message_id("13900002222", "12345", b"hello", None, at)
