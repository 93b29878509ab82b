"""Typed helpers that read settings from the environment and fail loudly on bad values.

Only ``hotline/settings.py`` reads the environment, through these helpers; the rest of the
code reads ``django.conf.settings``. The exceptions, each saying why, are the processes that
decide something before Django's settings are loaded (``hotline.launcher``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field


class ConfigError(RuntimeError):
    """Raised at start-up when an environment variable cannot be used."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


TRUE_SPELLINGS = frozenset({"1", "true", "yes", "on"})
FALSE_SPELLINGS = frozenset({"0", "false", "no", "off"})


def env_bool(name: str, default: bool) -> bool:
    """A flag: 1/true/yes/on or 0/false/no/off (any case); unset or empty gives ``default``,
    anything else stops the start (``HOTLINE_ACD=flase`` must not quietly mean "on")."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in TRUE_SPELLINGS:
        return True
    if lowered in FALSE_SPELLINGS:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no, on/off)")


def env_choice(name: str, default: str, choices: Sequence[str]) -> str:
    """One of ``choices`` (compared in lower case); unset or empty gives ``default``."""
    raw = os.environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw not in choices:
        allowed = ", ".join(choice for choice in choices if choice)
        raise ConfigError(f"{name}={raw!r} is not one of {allowed}")
    return raw


def parse_host_port(value: str, default_port: int, name: str = "address") -> tuple[str, int]:
    """``HOST:PORT``, ``HOST`` (the default port) or ``[IPv6]:PORT``."""
    value = value.strip()
    host, colon, port = value.rpartition(":")
    if not colon or (value.startswith("[") and not host.endswith("]")) or (
            ":" in host and not host.startswith("[")):
        host, port = value, ""  # no port, or a bare IPv6 address
    host = host.strip("[]")
    if not host:
        raise ConfigError(f"{name}={value!r}: no host (use HOST:PORT)")
    if not port:
        return host, default_port
    if not port.isdigit() or not 0 <= int(port) < 65536:  # 0: any free port
        raise ConfigError(f"{name}={value!r}: {port!r} is not a port number (0-65535)")
    return host, int(port)


def parse_port_range(value: str, name: str = "ports") -> tuple[int, int]:
    """``FIRST-LAST`` (or one port): UDP ports, first not above last."""
    first, _, last = value.strip().partition("-")
    try:
        low, high = int(first), int(last or first)
    except ValueError as exc:
        raise ConfigError(f"{name}={value!r} is not a port range (FIRST-LAST)") from exc
    if not 0 < low <= high < 65536:
        raise ConfigError(f"{name}={value!r}: ports must be 1-65535, the first not above the last")
    return low, high


def env_host_port(name: str, default: str, default_port: int) -> tuple[str, int]:
    return parse_host_port(env_str(name, default) or default, default_port, name)


def env_port_range(name: str, default: str) -> tuple[int, int]:
    return parse_port_range(env_str(name, default) or default, name)


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not an integer") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not a number") from exc
    if not math.isfinite(value):
        raise ConfigError(f"{name}={raw!r} is not a finite number")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_numbers(name: str) -> list[str]:
    """Comma-separated called numbers (digits, as the SIP request's user part brings them)."""
    numbers = env_list(name, [])
    for number in numbers:
        if not (number.isdigit() and 3 <= len(number) <= 31):
            raise ConfigError(f"{name}: {number!r} is not a number of 3 to 31 digits")
    return numbers


def env_time(name: str, default: str) -> dt.time:
    """A time of day as HH:MM (24-hour)."""
    raw = env_str(name, default).strip()
    try:
        return dt.time.fromisoformat(raw if len(raw) > 4 else "0" + raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: {raw!r} is not a time of day HH:MM") from exc


def env_int_at_least(name: str, default: int, minimum: int, why: str = "") -> int:
    """An integer that may not be set below ``minimum`` (a legal floor, not a preference)."""
    value = env_int(name, default)
    if value < minimum:
        reason = f" ({why})" if why else ""
        raise ConfigError(f"{name}={value} is below the minimum of {minimum}{reason}")
    return value


def secret_from_file(path: str, *, min_length: int = 50) -> str:
    """The secret kept in ``path``; the first caller creates it (random, mode 0600).

    For the embedded demo (``make run``), which must not ship a known key nor ask a newcomer to
    invent one. The key is written to a private temporary file and linked into place, so a
    process starting at the same moment reads either nothing (and creates its own attempt,
    which loses the link) or the whole key, never half of it.
    """
    import secrets

    target = os.path.abspath(path)
    if not os.path.exists(target):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        temporary = f"{target}.{os.getpid()}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_urlsafe(64) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            # FileExistsError: another process won the race, and its key is the key.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, target)
        finally:
            os.unlink(temporary)
    try:
        mode = os.stat(target).st_mode
        with open(target, encoding="utf-8") as handle:
            key = handle.read().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the secret key file {target}: {exc.strerror}") from exc
    if mode & 0o077:
        raise ConfigError(f"the secret key file {target} is readable by others: chmod 600 it")
    if len(key) < min_length:
        raise ConfigError(f"the secret key in {target} is shorter than {min_length} characters")
    return key


def env_networks(name: str, default: list[str]) -> list[str]:
    """A comma-separated list of IP addresses or networks (CIDR), each checked; returned as
    written, for servers (uvicorn) that take the same notation."""
    import ipaddress

    values = env_list(name, default)
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise ConfigError(f"{name}: {value!r} is not an IP address or network") from exc
    return values


def single_threaded_numerics() -> None:
    """Keep numeric libraries (OpenMP, OpenBLAS, MKL) on one thread unless told otherwise: for
    command-line measurements that must not spread over a shared machine's cores. Sets, before
    those libraries are imported, variables they read; it reads none of ours."""
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")


def smtp_relay_settings(url: str) -> dict[str, object]:
    """Django's EMAIL_* settings for a relay URL: smtp://[user:password@]host[:port][?starttls=1]
    or smtps:// (TLS from the first byte). A malformed URL fails loudly at start."""
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(f"HOTLINE_SMTP_RELAY must be smtp://host:port or smtps://..., "
                          f"got {url!r}")
    query = parse_qs(parts.query)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
        "EMAIL_TIMEOUT": 20,
    }


@dataclass(frozen=True)
class ImapAccount:
    """The mailbox HOTLINE_IMAP_URL names. ``tls``: "ssl" (TLS from the first byte, imaps://),
    "starttls" (imap://...?starttls=1) or "" (plain imap://, for a server on loopback)."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)  # never in a log line or a traceback's locals
    folder: str = "INBOX"
    tls: str = ""
    cafile: str = ""  # a private CA's certificates (PEM) to verify the server with

    @property
    def key(self) -> str:
        """What names this folder in the poller's records: no password."""
        return f"{self.user}@{self.host}:{self.port}/{self.folder}"[:255]


def imap_account(url: str, *, done_folder: str = "") -> ImapAccount:
    """``imaps://user:password@host[:993]/FOLDER`` or ``imap://...[:143]/FOLDER[?starttls=1]``;
    ``?cafile=/path.pem`` trusts a private CA. The user and password are percent-encoded in
    the URL (``%40`` for an @). A malformed URL fails loudly at start, and so does a
    ``done_folder`` (HOTLINE_IMAP_DONE_FOLDER) that is the polled folder itself (each move
    would make the mail new again)."""
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"HOTLINE_IMAP_URL has a bad port: {exc}") from exc
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ConfigError("HOTLINE_IMAP_URL must be imaps://user:password@host/FOLDER or "
                          "imap://...")
    if not parts.username:
        raise ConfigError("HOTLINE_IMAP_URL names no user (imaps://user:password@host/FOLDER)")
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - {"starttls", "cafile"})
    if unknown:
        raise ConfigError(f"HOTLINE_IMAP_URL: unknown option {', '.join(unknown)} "
                          "(starttls=1, cafile=/path.pem)")
    starttls = query.get("starttls", ["0"])[0].lower() in TRUE_SPELLINGS
    if parts.scheme == "imaps" and starttls:
        raise ConfigError("HOTLINE_IMAP_URL: imaps:// is TLS already; starttls=1 is for imap://")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    # INBOX is the one folder name that is case-insensitive (RFC 3501 5.1).
    same = done_folder == folder or done_folder.upper() == folder.upper() == "INBOX"
    if done_folder and same:
        raise ConfigError(f"HOTLINE_IMAP_DONE_FOLDER={done_folder!r} is the folder polled")
    return ImapAccount(
        host=parts.hostname, port=port or (993 if parts.scheme == "imaps" else 143),
        user=unquote(parts.username), password=unquote(parts.password or ""), folder=folder,
        tls="ssl" if parts.scheme == "imaps" else "starttls" if starttls else "",
        cafile=query.get("cafile", [""])[0])
