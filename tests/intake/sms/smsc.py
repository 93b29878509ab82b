"""A small SMPP 3.4 SMSC on 127.0.0.1 for the tests: real PDUs over real TCP, encoded here by
hand (not with smpplib, so the provider and the server do not share a mistake).

It takes bind_transmitter, bind_receiver and bind_transceiver (checking system_id and password:
ESME_RINVSYSID, ESME_RINVPASWD), submit_sm (a message id back; then, when a receipt was asked
for, a deliver_sm receipt to a bound receiver, kept until one binds), enquire_link and unbind.
The test injects citizens' messages (``inject_mo``, also in UCS-2 parts with a UDH), raw bytes
(``inject_raw``), drops the receivers (``drop_receivers``) and changes how it answers
(``bind_status``, ``submit_status``, ``answer_submits``, ``stat_for``, ``receipt_tlvs``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

GENERIC_NACK = 0x80000000
BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER = 0x01, 0x02, 0x09
SUBMIT_SM, DELIVER_SM, UNBIND, ENQUIRE_LINK = 0x04, 0x05, 0x06, 0x15
RESPONSE = 0x80000000
BIND_KINDS = {BIND_RECEIVER: "receiver", BIND_TRANSMITTER: "transmitter",
              BIND_TRANSCEIVER: "transceiver"}
ESME_ROK, ESME_RINVCMDID, ESME_RINVBNDSTS = 0x00, 0x03, 0x04
ESME_RINVPASWD, ESME_RINVSYSID = 0x0E, 0x0F
TLV_RECEIPTED_MESSAGE_ID, TLV_MESSAGE_STATE = 0x001E, 0x0427
STATES = {"DELIVRD": 2, "EXPIRED": 3, "DELETED": 4, "UNDELIV": 5, "REJECTD": 8}


def pdu(command_id: int, sequence: int, body: bytes = b"", status: int = 0) -> bytes:
    return struct.pack(">LLLL", 16 + len(body), command_id, status, sequence) + body


def cstring(text: str) -> bytes:
    return text.encode("latin-1") + b"\0"


def read_cstring(body: bytes, pos: int) -> tuple[str, int]:
    end = body.index(b"\0", pos)
    return body[pos:end].decode("latin-1"), end + 1


def tlv(tag: int, value: bytes) -> bytes:
    return struct.pack(">HH", tag, len(value)) + value


@dataclass
class Submitted:
    """One submit_sm as the SMSC read it."""

    source: str
    destination: str
    esm_class: int
    data_coding: int
    registered_delivery: int
    short_message: bytes
    message_id: str
    system_id: str

    @property
    def part(self) -> tuple[int, int, int, bytes]:
        """(reference, total, number, text octets); (0, 1, 1, ...) for a single message."""
        data = self.short_message
        if self.esm_class & 0x40:
            header, rest = data[1:1 + data[0]], data[1 + data[0]:]
            if header[:2] == b"\x00\x03":
                return header[2], header[3], header[4], rest
            return 0, 1, 1, rest
        return 0, 1, 1, data


def decode(data: bytes, data_coding: int) -> str:
    if data_coding == 8:
        return data.decode("utf-16-be")
    return data.decode("latin-1")  # the tests send plain ASCII in the default alphabet


@dataclass
class Session:
    sock: socket.socket
    kind: str = ""  # what it bound as; "" before a bind
    system_id: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def receives(self) -> bool:
        return self.kind in ("receiver", "transceiver")

    def send(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)


class Smsc:
    def __init__(self, system_id: str = "hotline", password: str = "secret") -> None:
        self.system_id, self.password = system_id, password
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.listener.settimeout(0.2)
        self.lock = threading.Lock()
        self.sessions: list[Session] = []
        self.submitted: list[Submitted] = []
        self.binds: list[tuple[str, str, int]] = []  # kind, system_id, the status answered
        self.answers: dict[int, int] = {}  # our deliver_sm's sequence -> the ESME's status
        self.nacks: list[tuple[int, int]] = []  # generic_nack from the ESME: sequence, status
        self.enquire_links = 0  # enquire_link the ESME sent
        self.enquire_answers: set[int] = set()  # sequences of enquire_link_resp it sent
        self.pending_receipts: list[bytes] = []  # deliver_sm bodies waiting for a receiver
        # How it answers; the tests change these.
        self.submit_status = ESME_ROK
        self.answer_submits = True
        self.receipt_tlvs = False
        self.stat_for: Callable[[Submitted], str] = lambda submitted: "DELIVRD"
        self._ids = itertools.count(0x1A2B0001)
        self._sequences = itertools.count(1)
        self._threads: list[threading.Thread] = []
        self._stopped = threading.Event()

    # --- life ------------------------------------------------------------------------------

    def start(self) -> Smsc:
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        self._stopped.set()
        self.listener.close()
        with self.lock:
            sessions = list(self.sessions)
        for session in sessions:
            self._close(session)
        for thread in self._threads:
            thread.join(timeout=10)

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue  # a closed listener does not wake accept(): look at _stopped
            except OSError:
                return
            sock.settimeout(None)
            session = Session(sock)
            with self.lock:
                self.sessions.append(session)
            self._spawn(self._serve, session)

    def _close(self, session: Session) -> None:
        with self.lock:
            if session in self.sessions:
                self.sessions.remove(session)
        with contextlib.suppress(OSError):
            session.sock.shutdown(socket.SHUT_RDWR)
        session.sock.close()

    # --- reading ---------------------------------------------------------------------------

    def _recv(self, sock: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _serve(self, session: Session) -> None:
        try:
            while not self._stopped.is_set():
                length, command_id, status, sequence = struct.unpack(
                    ">LLLL", self._recv(session.sock, 16))
                body = self._recv(session.sock, length - 16)
                if not self._handle(session, command_id, status, sequence, body):
                    break
        except (OSError, ConnectionError, struct.error):
            pass
        finally:
            self._close(session)

    def _handle(self, session: Session, command_id: int, status: int, sequence: int,
                body: bytes) -> bool:
        """Answer one PDU; False to close the connection."""
        if command_id in BIND_KINDS:
            self._bind(session, BIND_KINDS[command_id], command_id, sequence, body)
        elif command_id == SUBMIT_SM:
            self._submit(session, sequence, body)
        elif command_id == ENQUIRE_LINK:
            with self.lock:
                self.enquire_links += 1
            session.send(pdu(ENQUIRE_LINK | RESPONSE, sequence))
        elif command_id == UNBIND:
            session.send(pdu(UNBIND | RESPONSE, sequence))
            return False
        elif command_id == DELIVER_SM | RESPONSE:
            with self.lock:
                self.answers[sequence] = status
        elif command_id == ENQUIRE_LINK | RESPONSE:
            with self.lock:
                self.enquire_answers.add(sequence)
        elif command_id == GENERIC_NACK:
            with self.lock:
                self.nacks.append((sequence, status))
        elif command_id & RESPONSE:
            pass
        else:
            session.send(pdu(GENERIC_NACK, sequence, status=ESME_RINVCMDID))
        return True

    def _bind(self, session: Session, kind: str, command_id: int, sequence: int,
              body: bytes) -> None:
        system_id, pos = read_cstring(body, 0)
        password, pos = read_cstring(body, pos)
        status = (ESME_RINVSYSID if system_id != self.system_id
                  else ESME_RINVPASWD if password != self.password else ESME_ROK)
        with self.lock:
            self.binds.append((kind, system_id, status))
        if status:
            session.send(pdu(command_id | RESPONSE, sequence, status=status))
            return
        session.kind, session.system_id = kind, system_id
        session.send(pdu(command_id | RESPONSE, sequence, cstring("TESTSMSC")))
        if session.receives:
            with self.lock:
                waiting, self.pending_receipts = self.pending_receipts, []
            for receipt in waiting:
                self._deliver(receipt)

    def _submit(self, session: Session, sequence: int, body: bytes) -> None:
        if session.kind not in ("transmitter", "transceiver"):
            session.send(pdu(SUBMIT_SM | RESPONSE, sequence, status=ESME_RINVBNDSTS))
            return
        _service_type, pos = read_cstring(body, 0)
        pos += 2  # source TON, NPI
        source, pos = read_cstring(body, pos)
        pos += 2  # destination TON, NPI
        destination, pos = read_cstring(body, pos)
        esm_class = body[pos]
        pos += 3  # esm_class, protocol_id, priority_flag
        _schedule, pos = read_cstring(body, pos)
        _validity, pos = read_cstring(body, pos)
        registered_delivery, data_coding = body[pos], body[pos + 2]
        length = body[pos + 4]
        short_message = body[pos + 5:pos + 5 + length]
        if not self.answer_submits:
            return  # as an SMSC that hangs: the ESME has to give up by itself
        if self.submit_status:
            session.send(pdu(SUBMIT_SM | RESPONSE, sequence, status=self.submit_status))
            return
        message_id = f"{next(self._ids):X}"
        submitted = Submitted(source, destination, esm_class, data_coding, registered_delivery,
                              short_message, message_id, session.system_id)
        with self.lock:
            self.submitted.append(submitted)
        session.send(pdu(SUBMIT_SM | RESPONSE, sequence, cstring(message_id)))
        if registered_delivery & 0x01:
            self._deliver(self._receipt(submitted))

    def _receipt(self, submitted: Submitted) -> bytes:
        stat = self.stat_for(submitted)
        now = dt.datetime.now().strftime("%y%m%d%H%M")
        delivered = "001" if stat == "DELIVRD" else "000"
        err = "000" if stat == "DELIVRD" else "001"
        # The receipt's id in the text is what real SMSCs send even with the TLVs present.
        text = (f"id:{submitted.message_id} sub:001 dlvrd:{delivered} submit date:{now} "
                f"done date:{now} stat:{stat} err:{err} text:stat:DELIVRD quoted")
        tlvs = b""
        if self.receipt_tlvs:
            tlvs = (tlv(TLV_RECEIPTED_MESSAGE_ID, cstring(submitted.message_id))
                    + tlv(TLV_MESSAGE_STATE, bytes([STATES.get(stat, 7)])))
        return deliver_sm_body(submitted.destination, submitted.source, text.encode(),
                               esm_class=0x04, data_coding=0) + tlvs

    # --- what the tests do -----------------------------------------------------------------

    def receivers(self) -> list[Session]:
        with self.lock:
            return [session for session in self.sessions if session.receives]

    def _deliver(self, body: bytes) -> int | None:
        """Send a deliver_sm to the first bound receiver; kept for later without one."""
        receivers = self.receivers()
        if not receivers:
            with self.lock:
                self.pending_receipts.append(body)
            return None
        sequence = next(self._sequences)
        receivers[0].send(pdu(DELIVER_SM, sequence, body))
        return sequence

    def inject_mo(self, source: str, text: str, *, destination: str = "12345",
                  parts: int = 1, reference: int = 0x42, data_coding: int | None = None,
                  ) -> list[int]:
        """A citizen's message to the bound receiver, in ``parts`` UCS-2 parts with a UDH (or
        one part: UCS-2, or the default alphabet when it is plain ASCII); their sequences."""
        wide = any(ord(ch) > 127 for ch in text)
        coding = data_coding if data_coding is not None else (8 if wide or parts > 1 else 0)
        encoded = text.encode("utf-16-be") if coding == 8 else text.encode("latin-1")
        if parts == 1:
            return [self.inject(deliver_sm_body(source, destination, encoded,
                                                data_coding=coding))]
        size = -(-len(encoded) // parts)
        size += size % 2  # whole UCS-2 characters
        chunks = [encoded[i:i + size] for i in range(0, len(encoded), size)]
        return [self.inject(deliver_sm_body(
            source, destination, bytes([5, 0, 3, reference, len(chunks), number]) + chunk,
            esm_class=0x40, data_coding=coding)) for number, chunk in enumerate(chunks, start=1)]

    def inject(self, body: bytes) -> int:
        receivers = self.receivers()
        assert receivers, "no receiver is bound"
        sequence = next(self._sequences)
        receivers[0].send(pdu(DELIVER_SM, sequence, body))
        return sequence

    def inject_raw(self, data: bytes) -> None:
        receivers = self.receivers()
        assert receivers, "no receiver is bound"
        receivers[0].send(data)

    def enquire_receivers(self) -> int:
        sequence = next(self._sequences)
        self.receivers()[0].send(pdu(ENQUIRE_LINK, sequence))
        return sequence

    def drop_receivers(self) -> None:
        for session in self.receivers():
            self._close(session)

    def receiver_binds(self) -> int:
        with self.lock:
            return sum(1 for kind, _id, status in self.binds
                       if kind in ("receiver", "transceiver") and status == ESME_ROK)

    def texts(self) -> list[tuple[str, str]]:
        """(destination, text) of every message submitted, its parts put together."""
        with self.lock:
            submitted = list(self.submitted)
        out: list[tuple[str, str]] = []
        groups: dict[tuple[str, int], dict[int, Submitted]] = {}
        for sub in submitted:
            reference, total, number, _rest = sub.part
            if total == 1:
                out.append((sub.destination, decode(sub.part[3], sub.data_coding)))
                continue
            group = groups.setdefault((sub.destination, reference), {})
            group[number] = sub
            if len(group) == total:
                data = b"".join(group[n].part[3] for n in sorted(group))
                out.append((sub.destination, decode(data, sub.data_coding)))
        return out


def deliver_sm_body(source: str, destination: str, short_message: bytes, *,
                    esm_class: int = 0, data_coding: int = 0) -> bytes:
    return (cstring("") + bytes([1, 1]) + cstring(source) + bytes([0, 1]) + cstring(destination)
            + bytes([esm_class, 0, 0]) + cstring("") + cstring("")
            + bytes([0, 0, data_coding, 0, len(short_message)]) + short_message)


def wait_until(condition: Callable[[], object], timeout: float = 30.0) -> bool:
    """Poll ``condition`` until it is true: the machine may be busy, so generously."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())
