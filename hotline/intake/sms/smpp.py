"""The SMPP 3.4 provider (HOTLINE_SMS_PROVIDER=smpp): what operators' SMSCs speak.

``SmppProvider.send`` binds to the SMSC as a transmitter (HOTLINE_SMPP_HOST, HOTLINE_SMPP_PORT,
HOTLINE_SMPP_SYSTEM_ID, HOTLINE_SMPP_PASSWORD), submits the message from HOTLINE_SMPP_SOURCE,
asking for a delivery receipt, and unbinds. One bind per message: web processes and workers
send independently and rarely, and a bind of their own spares each of them a keep-alive
thread. Text that the GSM alphabet cannot carry (Chinese) goes as UCS-2 (data_coding 8); a long
message goes as concatenated parts with a user data header (67 UCS-2 characters a part).

Message ids: the SMSC gives each part its own id, and sends a receipt for each. The message is
recorded under the first part's id (what ``send`` returns); the other parts' ids are kept in
the cache for a few days as aliases of the first, so the receiver (``smpp_receiver``) matches a
receipt of any part to the message. One failed part fails the message, and a later "delivered"
of another part does not undo that.

Every failure (no connection, a refused bind, an error status, no answer in time) raises
``ProviderError``: ``send_sms`` records a failed message and goes on."""

from __future__ import annotations

import logging
import struct
import time
from typing import Any

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm
import smpplib.smpp
from django.conf import settings
from django.core.cache import cache

from hotline.intake.sms.providers import ProviderError

log = logging.getLogger("hotline.intake.sms.smpp")

TIMEOUT_S = 10.0  # for the connection and each answer
MAX_PDU_BYTES = 64 * 1024  # a deliver_sm is a few hundred octets; more means a broken stream
PART_ALIAS_TTL_S = 3 * 24 * 3600  # longer than an SMSC keeps trying to deliver
TON_UNKNOWN, TON_INTERNATIONAL, TON_ALPHANUMERIC = 0, 1, 5
NPI_UNKNOWN, NPI_ISDN = 0, 1


class MalformedPdu(Exception):
    """A PDU whose header was readable but whose body was not: the stream is still in step, so
    the peer gets a generic_nack for its sequence number and the session goes on."""

    def __init__(self, reason: str, command_id: int, sequence: int) -> None:
        super().__init__(reason)
        self.command_id, self.sequence = command_id, sequence


class SmppClient(smpplib.client.Client):  # type: ignore[misc]  # smpplib has no type hints
    """smpplib's client with a stricter reader: a command_length that cannot be right drops the
    connection (the stream is out of step), and a body smpplib cannot parse raises
    ``MalformedPdu`` instead of whatever smpplib's parser happened to raise."""

    def __init__(self, host: str, port: int, timeout: float = TIMEOUT_S) -> None:
        super().__init__(host, port, timeout=timeout, allow_unknown_opt_params=True,
                         logger_name="hotline.intake.sms.smpp.wire")

    def fileno(self) -> int:
        return -1 if self._socket is None else int(self._socket.fileno())

    def read_pdu(self) -> Any:
        header = self._recv_exact(16)
        length, command_id, _status, sequence = struct.unpack(">LLLL", header)
        if not 16 <= length <= MAX_PDU_BYTES:
            raise smpplib.exceptions.ConnectionError(
                f"a PDU of {length} octets: the stream is out of step")
        raw = header + self._recv_exact(length - 16)
        try:
            pdu = smpplib.smpp.parse_pdu(raw, client=self, allow_unknown_opt_params=True)
        except Exception as exc:  # smpplib's parser raises anything from struct.error on
            raise MalformedPdu(f"{type(exc).__name__}: {exc}", command_id, sequence) from exc
        if pdu is None:
            raise MalformedPdu("unknown command", command_id, sequence)
        if not pdu.is_error() and pdu.command in smpplib.consts.STATE_SETTERS:
            self.state = smpplib.consts.STATE_SETTERS[pdu.command]
        return pdu

    def answer(self, command: str, request: Any, status: int = 0) -> None:
        """Send the response to ``request`` (its sequence number)."""
        self.answer_sequence(command, request.sequence, status)

    def answer_sequence(self, command: str, sequence: int, status: int = 0) -> None:
        response = smpplib.smpp.make_pdu(command, client=self, status=status)
        response.sequence = sequence  # make_pdu would take the client's next number
        self.send_pdu(response)

    def close(self) -> None:
        if self._socket is not None:
            self.disconnect()


def status_text(status: int) -> str:
    description = smpplib.consts.DESCRIPTIONS.get(status, "unknown status")
    return f"{description} (0x{status:08X})"


def text_of(value: Any) -> str:
    """A C-octet string as smpplib parses it (bytes), as text."""
    if isinstance(value, bytes):
        return value.decode("latin-1").strip("\0")
    return "" if value is None else str(value)


def _address(number: str) -> tuple[int, int, str]:
    """TON, NPI and digits: +86... is an international number; letters make an alphanumeric
    sender; anything else is left to the SMSC's numbering plan."""
    if number.startswith("+"):
        return TON_INTERNATIONAL, NPI_ISDN, number[1:]
    if not number.isdigit():
        return TON_ALPHANUMERIC, NPI_UNKNOWN, number
    return TON_UNKNOWN, NPI_ISDN, number


def _alias_key(message_id: str) -> str:
    return f"sms:smpp:part:{message_id}"


def remember_parts(ids: list[str]) -> None:
    """Make the later parts' ids name the first part's (see the module's note)."""
    if len(ids) < 2:
        return
    try:
        cache.set_many({_alias_key(part): ids[0] for part in ids[1:]}, timeout=PART_ALIAS_TTL_S)
    except Exception:  # the message went out: a cache fault must not make it "failed"
        log.exception("could not remember the parts of SMPP message %s", ids[0])


def message_id_for(part_id: str) -> str:
    """The id a message was recorded under, from the id of any of its parts."""
    try:
        found = cache.get(_alias_key(part_id))
    except Exception:
        log.exception("could not look up SMPP part %s", part_id)
        found = None
    return str(found) if found else part_id


class SmppProvider:
    name = "smpp"

    def __init__(self, host: str, port: int, system_id: str, password: str, source: str,
                 timeout: float = TIMEOUT_S) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.system_id, self.password, self.source = system_id, password, source

    @classmethod
    def from_settings(cls) -> SmppProvider:
        return cls(settings.HOTLINE_SMPP_HOST, settings.HOTLINE_SMPP_PORT,
                   settings.HOTLINE_SMPP_SYSTEM_ID, settings.HOTLINE_SMPP_PASSWORD,
                   settings.HOTLINE_SMPP_SOURCE)

    def send(self, phone: str, text: str) -> str:
        if not self.host:
            raise ProviderError("HOTLINE_SMPP_HOST is not set")
        try:
            parts, coding, esm_class = smpplib.gsm.make_parts(text)
        except smpplib.exceptions.MessageTooLong:
            raise ProviderError("the message is too long for 255 SMS parts") from None
        where = f"the SMSC at {self.host}:{self.port}"
        client = SmppClient(self.host, self.port, self.timeout)
        step = "connection"
        try:
            client.connect()
            step = "bind"
            self._bind(client)
            ids = []
            for number, part in enumerate(parts, start=1):
                step = f"submit of part {number}/{len(parts)}" if len(parts) > 1 else "submit"
                ids.append(self._submit(client, phone, part, coding, esm_class))
            self._unbind(client)
        except smpplib.exceptions.PDUError as exc:  # smpplib would not send in this state
            raise ProviderError(f"{where}: {exc.args[0]}") from None
        except (smpplib.exceptions.ConnectionError, MalformedPdu, OSError) as exc:
            raise ProviderError(self._failure(where, step, exc)) from None
        finally:
            client.close()
        remember_parts(ids)
        return ids[0]

    def _failure(self, where: str, step: str, exc: Exception) -> str:
        if step == "connection":
            return f"{where} could not be reached"
        if isinstance(exc, TimeoutError):
            return f"{where} did not answer the {step} within {self.timeout:g} s"
        if isinstance(exc, MalformedPdu):
            return f"{where} answered the {step} with a PDU that cannot be read: {exc}"
        return f"{where} closed the connection during the {step}"

    def _bind(self, client: SmppClient) -> None:
        request = smpplib.smpp.make_pdu("bind_transmitter", client=client,
                                        system_id=self.system_id, password=self.password)
        client.send_pdu(request)
        response = self._response_to(client, request, "bind_transmitter_resp")
        if response.is_error():
            raise ProviderError(f"the SMSC refused the bind: {status_text(response.status)}")

    def _submit(self, client: SmppClient, phone: str, part: bytes, coding: int,
                esm_class: int) -> str:
        source_ton, source_npi, source = _address(self.source)
        dest_ton, dest_npi, destination = _address(phone)
        request = client.send_message(
            source_addr_ton=source_ton, source_addr_npi=source_npi, source_addr=source,
            dest_addr_ton=dest_ton, dest_addr_npi=dest_npi, destination_addr=destination,
            esm_class=esm_class, data_coding=coding, short_message=part,
            registered_delivery=1)
        response = self._response_to(client, request, "submit_sm_resp")
        if response.is_error():
            raise ProviderError(f"the SMSC refused the message: {status_text(response.status)}")
        message_id = text_of(response.message_id)
        if not message_id:
            raise ProviderError("the SMSC took the message but gave no message id")
        return message_id[:65]

    def _unbind(self, client: SmppClient) -> None:
        """Unbind politely; the message is taken whatever happens now."""
        try:
            request = smpplib.smpp.make_pdu("unbind", client=client)
            client.send_pdu(request)
            self._response_to(client, request, "unbind_resp")
        except (ProviderError, MalformedPdu, smpplib.exceptions.ConnectionError,
                smpplib.exceptions.PDUError, OSError) as exc:
            log.info("the SMSC at %s:%d did not finish the unbind: %r", self.host, self.port, exc)

    def _response_to(self, client: SmppClient, request: Any, command: str) -> Any:
        """Read until the answer to ``request``, answering the SMSC's enquire_link meanwhile."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                pdu = client.read_pdu()
            except MalformedPdu as bad:
                if bad.sequence == request.sequence:
                    raise
                client.answer_sequence("generic_nack", bad.sequence,
                                       smpplib.consts.SMPP_ESME_RINVCMDLEN)
                continue
            if pdu.sequence == request.sequence and pdu.command in (command, "generic_nack"):
                if pdu.command == "generic_nack":
                    raise ProviderError(f"the SMSC rejected the PDU: {status_text(pdu.status)}")
                return pdu
            if pdu.command == "enquire_link":
                client.answer("enquire_link_resp", pdu)
            else:
                log.debug("ignored %s while waiting for %s", pdu.command, command)
        raise TimeoutError
