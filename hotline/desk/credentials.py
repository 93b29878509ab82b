"""Digest credentials of agents' SIP phones, server side (RFC 3261 22.4, RFC 7616, RFC 8760).

A registrar never needs the password: HA1 = H(username:realm:password) is enough to check a
phone's response, so the platform stores only HA1 (MD5 for the phones that know nothing else,
SHA-256 for those that do). The one implementation lives in ``hotline.voice.sip.auth`` (its
registrar uses it); this module names it for the desk.
"""

from __future__ import annotations

from hotline.voice.sip.auth import check_response, ha1

__all__ = ["check_response", "ha1"]
