"""The client's address, believing forwarded headers only from the configured proxies.

``X-Forwarded-For`` is a header anyone can send; believed from everyone, it lets one client
pick a fresh address for every request and walk past any per-address limit. The ASGI server
(uvicorn, started by ``hotline.launcher``) rewrites REMOTE_ADDR from the header only when the
connection comes from HOTLINE_TRUSTED_PROXIES, and nothing else in the code reads the headers:
every per-address count asks ``client_address``. When the server left REMOTE_ADDR at a trusted
proxy (another ASGI server, or one started without proxy headers) the header is resolved here
the same way uvicorn does it: from the right, skipping trusted proxies, the first address that
is not one of them; so resolving twice gives the same answer.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return parse_networks(entries)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    parsed = _parse(address)
    return parsed is not None and any(parsed in network for network in trusted)


def resolve(remote_addr: str, forwarded_for: str, trusted: Sequence[Network]) -> str:
    """The client address given the connection's address and the X-Forwarded-For value."""
    if not trusted or not is_trusted(remote_addr, trusted):
        return remote_addr
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, trusted):
            return hop if _parse(hop) is not None else remote_addr
    return hops[0] if hops else remote_addr


def client_address(request: Any) -> str:
    """The address per-address limits count against (a Django request)."""
    from django.conf import settings

    trusted = _networks(tuple(settings.HOTLINE_TRUSTED_PROXIES))
    meta = request.META
    return resolve(str(meta.get("REMOTE_ADDR") or ""), str(meta.get("HTTP_X_FORWARDED_FOR") or ""),
                   trusted)
