"""Typed helpers that read settings from the environment and fail loudly on bad values."""

from __future__ import annotations

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
