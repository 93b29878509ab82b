"""What the short messages an SMSC delivers mean (SMPP 3.4): delivery receipts (the receipt
text of the spec's appendix B, or the receipted_message_id and message_state TLVs), the parts of
a concatenated message (a user data header, or the SAR TLVs) and their reassembly, text by
data_coding, and a stable id for a citizen's message. Pure: bytes in, values out; no sockets,
no Django."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

# GSM 03.38 default alphabet, one septet per octet as SMPP carries it, and the extension table
# reached through the escape 0x1B.
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~",
                 0x3E: "]", 0x40: "|", 0x65: "€"}
GSM_ESCAPE = 0x1B

# data_coding values (SMPP 3.4, 5.2.19)
CODING_DEFAULT, CODING_IA5, CODING_LATIN1, CODING_UCS2 = 0x00, 0x01, 0x03, 0x08

# esm_class bits 5-2 are the message type of a deliver_sm (5.2.12); bit 6 says a UDH leads the
# short message.
ESM_TYPE_MASK, ESM_RECEIPT, ESM_UDHI = 0x3C, 0x04, 0x40

# message_state TLV values (5.2.28) as the receipt text spells them.
MESSAGE_STATES = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV",
                  6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD"}
NOT_FINAL = frozenset({"ENROUTE", "ACCEPTD"})  # intermediate: a final receipt follows


class MalformedMessage(ValueError):
    """A deliver_sm whose content cannot be read (the PDU itself was well framed)."""


def gsm_decode(data: bytes) -> str:
    out, escaped = [], False
    for octet in data:
        septet = octet & 0x7F
        if escaped:
            out.append(GSM_EXTENSION.get(septet, " "))  # unknown extensions read as a space
            escaped = False
        elif septet == GSM_ESCAPE:
            escaped = True
        else:
            out.append(GSM_BASIC[septet])
    return "".join(out)


def decode_text(data: bytes, data_coding: int) -> str:
    """The text of a short message. Undecodable octets become U+FFFD rather than failing: a
    citizen's message with one bad character is still a message."""
    coding = data_coding & 0xFF
    if coding == CODING_UCS2:
        # UTF-16 is UCS-2's superset: phones send emoji as surrogate pairs.
        return data.decode("utf-16-be", errors="replace")
    if coding == CODING_DEFAULT:
        return gsm_decode(data)
    if coding == CODING_IA5:
        return data.decode("ascii", errors="replace")
    if coding & 0xF0 == 0xF0:  # the GSM "message class" group: bit 2 is 8-bit data, else GSM
        return data.decode("latin-1") if coding & 0x04 else gsm_decode(data)
    # Latin-1, and the best reading of binary or unknown codings.
    return data.decode("latin-1")


@dataclass(frozen=True)
class Segment:
    """One part of a concatenated message."""

    reference: int
    total: int
    number: int


def split_udh(data: bytes) -> tuple[Segment | None, bytes]:
    """The concatenation element of a user data header (8- or 16-bit reference) and the text
    after the header. An element with impossible numbers is ignored, as 3GPP 23.040 says."""
    if not data or 1 + data[0] > len(data):
        raise MalformedMessage("the user data header is longer than the message")
    header, body = data[1:1 + data[0]], data[1 + data[0]:]
    segment, pos = None, 0
    while pos + 2 <= len(header):
        iei, length = header[pos], header[pos + 1]
        value = header[pos + 2:pos + 2 + length]
        if len(value) < length:
            raise MalformedMessage("a user data header element runs past the header")
        if iei == 0x00 and length == 3:
            segment = _segment(value[0], value[1], value[2])
        elif iei == 0x08 and length == 4:
            segment = _segment(value[0] << 8 | value[1], value[2], value[3])
        pos += 2 + length
    return segment, body


def sar_segment(reference: int | None, total: int | None, number: int | None) -> Segment | None:
    """The segment the SAR TLVs (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum) name."""
    if reference is None or total is None or number is None:
        return None
    return _segment(reference, total, number)


def _segment(reference: int, total: int, number: int) -> Segment | None:
    return Segment(reference, total, number) if 1 <= number <= total and total > 1 else None


@dataclass(frozen=True)
class DeliveryReceipt:
    message_id: str
    stat: str
    err: str = ""

    @property
    def delivered(self) -> bool:
        return self.stat == "DELIVRD"

    @property
    def final(self) -> bool:
        return self.stat not in NOT_FINAL

    @property
    def error(self) -> str:
        """What the message's record says when it was not delivered."""
        if self.delivered:
            return ""
        return f"{self.stat} err:{self.err}" if self.err.strip("0") else self.stat


# The receipt's own fields come before "text:", which quotes the start of the message (and
# could itself contain "stat:").
RECEIPT_FIELD = re.compile(r"(?i)\b(id|stat|err):\s*([^\s]*)")
RECEIPT_TEXT = re.compile(r"(?i)\btext:")


def parse_receipt(text: str, receipted_id: str = "", message_state: int | None = None,
                  ) -> DeliveryReceipt | None:
    """The receipt a deliver_sm carries; the TLVs win over the text when both are there.
    None when it names no message or no state."""
    head = RECEIPT_TEXT.split(text, maxsplit=1)[0]
    fields = {key.lower(): value for key, value in RECEIPT_FIELD.findall(head)}
    message_id = receipted_id.strip() or fields.get("id", "")
    stat = MESSAGE_STATES.get(message_state or 0) or fields.get("stat", "").upper()
    if not message_id or not stat:
        return None
    return DeliveryReceipt(message_id=message_id[:65], stat=stat[:16], err=fields.get("err", "")[:8])


PartsKey = tuple[str, str, int, int, int]  # source, destination, reference, total, data_coding


@dataclass
class _Pending:
    first_seen: float
    parts: dict[int, bytes] = field(default_factory=dict)


class Reassembler:
    """Collects the parts of concatenated messages until each is whole. A message whose parts
    stop coming is handed on incomplete after ``max_age`` seconds (a citizen's half message is
    better than none); at most ``max_pending`` messages wait, the oldest go on first."""

    def __init__(self, max_age: float = 600.0, max_pending: int = 1000) -> None:
        self.max_age, self.max_pending = max_age, max_pending
        self._pending: dict[PartsKey, _Pending] = {}

    def add(self, key: PartsKey, number: int, payload: bytes, now: float) -> bytes | None:
        """The whole message's octets when this part completes it, else None. The parts stay
        until ``discard``: a part the SMSC delivers again after a failed hand-over completes
        the message again."""
        pending = self._pending.setdefault(key, _Pending(first_seen=now))
        pending.parts[number] = payload
        if len(pending.parts) < key[3]:
            return None
        return b"".join(pending.parts[n] for n in sorted(pending.parts))

    def discard(self, key: PartsKey) -> None:
        self._pending.pop(key, None)

    def expired(self, now: float) -> list[tuple[PartsKey, bytes]]:
        """The incomplete messages to hand on now (and forget)."""
        by_age = sorted(self._pending.items(), key=lambda item: item[1].first_seen)
        overflow = max(0, len(by_age) - self.max_pending)
        due = [key for index, (key, pending) in enumerate(by_age)
               if index < overflow or now - pending.first_seen >= self.max_age]
        out = []
        for key in due:
            pending = self._pending.pop(key)
            out.append((key, b"".join(pending.parts[n] for n in sorted(pending.parts))))
        return out

    def __len__(self) -> int:
        return len(self._pending)


def mo_message_id(source: str, destination: str, payload: bytes, reference: int | None,
                  at: dt.datetime) -> str:
    """A stable id for a citizen's message, which SMPP 3.4 does not give: the same message
    delivered again (the SMSC retries when our answer was lost) gets the same id within the
    hour, so ``do_receive`` takes it once; the same words a later hour are a new message. The
    PDU's sequence number is no help: it is per session and changes with every retry."""
    bucket = at.astimezone(dt.UTC).strftime("%Y%m%d%H")
    digest = hashlib.sha256("\0".join(
        (source, destination, str(reference), bucket, "")).encode() + payload)
    return "mo-" + digest.hexdigest()[:32]
