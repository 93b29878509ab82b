"""Typed helpers that read settings from the environment and fail loudly on bad values."""

from __future__ import annotations

import contextlib
import os


class ConfigError(RuntimeError):
    """Raised at start-up when an environment variable cannot be used."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not an integer") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


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
