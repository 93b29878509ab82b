"""SDP (RFC 4566) parsing and both sides of offer/answer (RFC 3264), sans-I/O.

We accept G.711 (PCMU 0, PCMA 8) and RFC 4733 telephone-event, on one audio stream.
Other streams in an offer are declined with port 0, as RFC 3264 6 requires. For our own
calls out, `make_offer` writes the offer and `accept_answer` reads what the callee chose.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hotline.voice.media.g711 import Codec


class SdpError(ValueError):
    """The session description is malformed."""


class NoAcceptableCodec(SdpError):
    """Well-formed, but nothing we can speak: answer 488 Not Acceptable Here."""


class Direction(enum.StrEnum):
    SENDRECV = "sendrecv"
    SENDONLY = "sendonly"
    RECVONLY = "recvonly"
    INACTIVE = "inactive"

    def reversed(self) -> Direction:
        """What the answerer says for the offerer's direction (RFC 3264 6.1)."""
        return {
            Direction.SENDONLY: Direction.RECVONLY,
            Direction.RECVONLY: Direction.SENDONLY,
        }.get(self, self)

    @property
    def we_send(self) -> bool:
        return self in (Direction.SENDRECV, Direction.SENDONLY)

    @property
    def we_receive(self) -> bool:
        return self in (Direction.SENDRECV, Direction.RECVONLY)


STATIC_PAYLOAD_TYPES = {0: ("PCMU", 8000), 8: ("PCMA", 8000)}
CODEC_BY_NAME = {"PCMU": Codec.PCMU, "PCMA": Codec.PCMA}
_DIRECTIONS = {d.value for d in Direction}


@dataclass
class MediaDescription:
    media: str
    port: int
    proto: str
    formats: list[str]
    connection: str | None = None
    rtpmap: dict[int, tuple[str, int]] = field(default_factory=dict)
    fmtp: dict[int, str] = field(default_factory=dict)
    direction: Direction | None = None
    ptime: int | None = None

    def encoding(self, payload_type: int) -> tuple[str, int] | None:
        if payload_type in self.rtpmap:
            return self.rtpmap[payload_type]
        return STATIC_PAYLOAD_TYPES.get(payload_type)


@dataclass
class SessionDescription:
    origin: str
    connection: str | None
    media: list[MediaDescription]
    direction: Direction = Direction.SENDRECV


def parse_sdp(data: bytes) -> SessionDescription:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SdpError("SDP is not UTF-8") from exc
    origin: str | None = None
    session_connection: str | None = None
    session_direction = Direction.SENDRECV
    media: list[MediaDescription] = []
    saw_version = False
    for raw_line in text.replace("\r\n", "\n").split("\n"):
        line = raw_line.strip()
        if not line:
            continue
        if len(line) < 2 or line[1] != "=":
            raise SdpError(f"invalid SDP line {line[:40]!r}")
        kind, value = line[0], line[2:].strip()
        current = media[-1] if media else None
        if kind == "v":
            if value != "0":
                raise SdpError("unsupported SDP version")
            saw_version = True
        elif kind == "o":
            origin = value
        elif kind == "c":
            address = _parse_connection(value)
            if current is None:
                session_connection = address
            else:
                current.connection = address
        elif kind == "m":
            media.append(_parse_media_line(value))
        elif kind == "a":
            name, _, attr_value = value.partition(":")
            if name in _DIRECTIONS:
                if current is None:
                    session_direction = Direction(name)
                else:
                    current.direction = Direction(name)
            elif current is not None:
                _apply_media_attribute(current, name, attr_value)
    if not saw_version or origin is None:
        raise SdpError("SDP without v= or o= line")
    return SessionDescription(
        origin=origin, connection=session_connection, media=media, direction=session_direction
    )


def _parse_connection(value: str) -> str:
    parts = value.split()
    if len(parts) != 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
        raise SdpError(f"invalid c= line {value[:40]!r}")
    address = parts[2].split("/")[0]
    try:
        ipaddress.ip_address(address)
    except ValueError:
        # A host name is legal SDP; we only deal in addresses, so refuse it clearly.
        raise SdpError(f"connection address is not an IP address: {address[:40]!r}") from None
    return address


def _parse_media_line(value: str) -> MediaDescription:
    parts = value.split()
    if len(parts) < 4:
        raise SdpError(f"invalid m= line {value[:40]!r}")
    port_text = parts[1].split("/")[0]
    if not port_text.isdigit() or not port_text.isascii() or int(port_text) > 65535:
        raise SdpError("invalid media port")
    return MediaDescription(media=parts[0], port=int(port_text), proto=parts[2], formats=parts[3:])


def _apply_media_attribute(media: MediaDescription, name: str, value: str) -> None:
    if name == "rtpmap":
        pt_text, _, encoding = value.partition(" ")
        fields = encoding.strip().split("/")
        if not pt_text.isdigit() or len(fields) < 2 or not fields[1].isdigit():
            raise SdpError(f"invalid rtpmap {value[:40]!r}")
        media.rtpmap[int(pt_text)] = (fields[0].upper(), int(fields[1]))
    elif name == "fmtp":
        pt_text, _, params = value.partition(" ")
        if pt_text.isdigit():
            media.fmtp[int(pt_text)] = params.strip()
    elif name == "ptime" and value.strip().isdigit():
        media.ptime = int(value.strip())


@dataclass
class AudioAnswer:
    """What we agreed: where to send, which codec, which DTMF payload type."""

    remote_address: str
    remote_port: int
    payload_type: int
    codec: Codec
    telephone_event: int | None
    direction: Direction  # ours
    sdp: bytes
    ptime: int = 20


@dataclass
class LocalSession:
    """Our o= line state: the version must increase with every changed description."""

    address: str
    session_id: int
    version: int = 0
    username: str = "hotline"

    def next_version(self) -> int:
        self.version += 1
        return self.version


def _pick_formats(formats: Iterable[str], encoding_of: Callable[[int], tuple[str, int] | None]
                  ) -> tuple[tuple[int, Codec] | None, int | None]:
    """The first G.711 format at 8 kHz and the first telephone-event, in the listed order."""
    chosen: tuple[int, Codec] | None = None
    dtmf_pt: int | None = None
    for fmt in formats:
        if not fmt.isdigit():
            continue
        encoding = encoding_of(int(fmt))
        if encoding is None:
            continue
        name, rate = encoding
        if chosen is None and name in CODEC_BY_NAME and rate == 8000:
            chosen = (int(fmt), CODEC_BY_NAME[name])
        elif dtmf_pt is None and name == "TELEPHONE-EVENT" and rate == 8000:
            dtmf_pt = int(fmt)
    return chosen, dtmf_pt


def answer_offer(
    offer: SessionDescription,
    local: LocalSession,
    local_port: int,
    *,
    hold_direction: Direction | None = None,
) -> AudioAnswer:
    """Choose the first offered codec we support (the offerer's order is its preference).

    `hold_direction` forces our direction (for example INACTIVE while we put the call on
    hold); otherwise we mirror the offer.
    """
    audio_index = None
    chosen: tuple[int, Codec] | None = None
    dtmf_pt: int | None = None
    for index, media in enumerate(offer.media):
        if media.media != "audio" or media.port == 0 or media.proto.upper() != "RTP/AVP":
            continue
        chosen, dtmf_pt = _pick_formats(media.formats, media.encoding)
        if chosen is not None:
            audio_index = index
            break
        dtmf_pt = None
    if audio_index is None or chosen is None:
        raise NoAcceptableCodec("no PCMU or PCMA audio stream offered")
    audio = offer.media[audio_index]
    address = audio.connection or offer.connection
    if address is None:
        raise SdpError("no connection address for the audio stream")
    offered = audio.direction or offer.direction
    if address in ("0.0.0.0", "::"):  # noqa: S104 (RFC 2543 style hold)
        offered = Direction.INACTIVE if offered == Direction.RECVONLY else Direction.SENDONLY
    direction = hold_direction or offered.reversed()
    payload_type, codec = chosen
    ip_version = "IP6" if ":" in local.address else "IP4"
    lines = [
        "v=0",
        f"o={local.username} {local.session_id} {local.next_version()} IN {ip_version} "
        f"{local.address}",
        "s=-",
        f"c=IN {ip_version} {local.address}",
        "t=0 0",
    ]
    for index, media in enumerate(offer.media):
        if index != audio_index:
            lines.append(f"m={media.media} 0 {media.proto} {' '.join(media.formats)}")
            continue
        formats = [str(payload_type)] + ([str(dtmf_pt)] if dtmf_pt is not None else [])
        lines.append(f"m=audio {local_port} RTP/AVP {' '.join(formats)}")
        lines.append(f"a=rtpmap:{payload_type} {codec.name}/8000")
        if dtmf_pt is not None:
            lines.append(f"a=rtpmap:{dtmf_pt} telephone-event/8000")
            lines.append(f"a=fmtp:{dtmf_pt} 0-15")
        lines.append("a=ptime:20")
        lines.append(f"a={direction.value}")
    return AudioAnswer(
        remote_address=address,
        remote_port=audio.port,
        payload_type=payload_type,
        codec=codec,
        telephone_event=dtmf_pt,
        direction=direction,
        sdp=("\r\n".join(lines) + "\r\n").encode("ascii"),
    )


def make_offer(local: LocalSession, local_port: int, direction: Direction = Direction.SENDRECV) -> bytes:
    """Our own offer (for outgoing calls and re-INVITEs we originate)."""
    ip_version = "IP6" if ":" in local.address else "IP4"
    lines = [
        "v=0",
        f"o={local.username} {local.session_id} {local.next_version()} IN {ip_version} "
        f"{local.address}",
        "s=-",
        f"c=IN {ip_version} {local.address}",
        "t=0 0",
        f"m=audio {local_port} RTP/AVP 0 8 101",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=ptime:20",
        f"a={direction.value}",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def accept_answer(offer: bytes, answer: SessionDescription) -> AudioAnswer:
    """What the callee's answer to our own offer (`make_offer`) agrees (RFC 3264 7).

    The answer's first m= line answers our audio stream (same order, RFC 3264 6); it must
    keep it (port not 0) and pick one of the codecs we offered. `sdp` is our offer.
    """
    ours = parse_sdp(offer)
    if not ours.media:
        raise SdpError("our offer has no audio stream")
    our_audio = ours.media[0]
    offered = {int(fmt) for fmt in our_audio.formats if fmt.isdigit()}
    if not answer.media:
        raise NoAcceptableCodec("the answer has no media stream")
    audio = answer.media[0]
    if audio.media != "audio" or audio.port == 0 or audio.proto.upper() != "RTP/AVP":
        raise NoAcceptableCodec("the callee declined the audio stream")
    chosen, dtmf_pt = _pick_formats(
        [fmt for fmt in audio.formats if fmt.isdigit() and int(fmt) in offered],
        lambda pt: audio.encoding(pt) or our_audio.encoding(pt))
    if chosen is None:
        raise NoAcceptableCodec("the answer chose no codec we offered")
    address = audio.connection or answer.connection
    if address is None:
        raise SdpError("no connection address for the audio stream")
    theirs = audio.direction or answer.direction
    if address in ("0.0.0.0", "::"):  # noqa: S104 (RFC 2543 style hold: send nothing there)
        theirs = Direction.SENDONLY if theirs.we_send else Direction.INACTIVE
    mine = our_audio.direction or ours.direction
    payload_type, codec = chosen
    return AudioAnswer(
        remote_address=address,
        remote_port=audio.port,
        payload_type=payload_type,
        codec=codec,
        telephone_event=dtmf_pt,
        direction=_agreed(mine, theirs),
        sdp=offer,
    )


def _agreed(mine: Direction, theirs: Direction) -> Direction:
    """Our direction once both sides have spoken: we send only what they receive."""
    send = mine.we_send and theirs.we_receive
    receive = mine.we_receive and theirs.we_send
    if send and receive:
        return Direction.SENDRECV
    if send:
        return Direction.SENDONLY
    return Direction.RECVONLY if receive else Direction.INACTIVE
