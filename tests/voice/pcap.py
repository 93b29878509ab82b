"""A tiny pcap reader (libpcap format, Ethernet/Linux-cooked, IPv4, UDP) for test fixtures."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL = 113


@dataclass(frozen=True)
class UdpDatagram:
    time: float
    source: tuple[str, int]
    destination: tuple[str, int]
    payload: bytes


def read_udp(path: str) -> Iterator[UdpDatagram]:
    with open(path, "rb") as handle:
        data = handle.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError("not a pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    _, _, _, _, _, linktype = struct.unpack_from(endian + "HHiIII", data, 4)
    offset = 24
    while offset + 16 <= len(data):
        seconds, fraction, captured, _ = struct.unpack_from(endian + "IIII", data, offset)
        offset += 16
        frame = data[offset : offset + captured]
        offset += captured
        timestamp = seconds + fraction / (1e9 if nano else 1e6)
        datagram = _udp_from_frame(frame, linktype, timestamp)
        if datagram is not None:
            yield datagram


def _udp_from_frame(frame: bytes, linktype: int, timestamp: float) -> UdpDatagram | None:
    if linktype == LINKTYPE_ETHERNET:
        ethertype, ip_start = struct.unpack_from("!H", frame, 12)[0], 14
        if ethertype == 0x8100:  # 802.1Q tag
            ethertype, ip_start = struct.unpack_from("!H", frame, 16)[0], 18
    elif linktype == LINKTYPE_LINUX_SLL:
        ethertype, ip_start = struct.unpack_from("!H", frame, 14)[0], 16
    else:
        raise ValueError(f"unsupported link type {linktype}")
    if ethertype != 0x0800:
        return None
    ip = frame[ip_start:]
    header_length = (ip[0] & 0x0F) * 4
    total_length = struct.unpack_from("!H", ip, 2)[0]
    if ip[9] != 17:  # not UDP
        return None
    source_ip = ".".join(str(b) for b in ip[12:16])
    destination_ip = ".".join(str(b) for b in ip[16:20])
    udp = ip[header_length:total_length]
    source_port, destination_port, udp_length = struct.unpack_from("!HHH", udp)
    return UdpDatagram(
        time=timestamp,
        source=(source_ip, source_port),
        destination=(destination_ip, destination_port),
        payload=bytes(udp[8:udp_length]),
    )
