"""The typed environment helpers: a bad value stops the start instead of meaning something."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from hotline.env import (
    ConfigError,
    env_bool,
    env_choice,
    env_host_port,
    env_port_range,
    parse_host_port,
)

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", "True", "yes", "on", " on "])
def test_true_spellings(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("HOTLINE_X", raw)
    assert env_bool("HOTLINE_X", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "FALSE", "False", "no", "off"])
def test_false_spellings(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("HOTLINE_X", raw)
    assert env_bool("HOTLINE_X", True) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "-1", "enabled", "y", "t", "nope", "flase"])
def test_anything_else_is_refused(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("HOTLINE_X", raw)
    with pytest.raises(ConfigError, match=f"HOTLINE_X={raw!r} is not a boolean"):
        env_bool("HOTLINE_X", True)


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_unset_or_empty_is_the_default(monkeypatch: pytest.MonkeyPatch, raw: str | None) -> None:
    if raw is None:
        monkeypatch.delenv("HOTLINE_X", raising=False)
    else:
        monkeypatch.setenv("HOTLINE_X", raw)
    assert env_bool("HOTLINE_X", True) is True
    assert env_bool("HOTLINE_X", False) is False


def test_a_choice_is_one_of_its_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_X", "Tone")
    assert env_choice("HOTLINE_X", "", ["", "espeak", "tone"]) == "tone"
    monkeypatch.setenv("HOTLINE_X", "festival")
    with pytest.raises(ConfigError, match="is not one of espeak, tone"):
        env_choice("HOTLINE_X", "", ["", "espeak", "tone"])


def test_addresses_and_port_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_host_port("10.0.0.1:5070", 5060) == ("10.0.0.1", 5070)
    assert parse_host_port("pbx.example", 5060) == ("pbx.example", 5060)
    assert parse_host_port("[::1]:5070", 5060) == ("::1", 5070)
    assert parse_host_port("::1", 5060) == ("::1", 5060)
    monkeypatch.setenv("HOTLINE_X", "host:sip")
    with pytest.raises(ConfigError, match="not a port number"):
        env_host_port("HOTLINE_X", "127.0.0.1:5060", 5060)
    monkeypatch.setenv("HOTLINE_X", "20000-20099")
    assert env_port_range("HOTLINE_X", "1-2") == (20000, 20099)
    monkeypatch.setenv("HOTLINE_X", "20099-20000")
    with pytest.raises(ConfigError, match="first not above the last"):
        env_port_range("HOTLINE_X", "1-2")


def _settings_value(name: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Load hotline.settings in a fresh interpreter with ``env`` (settings read the
    environment once, at import)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "DJANGO_"))}
    clean.update(HOTLINE_ALLOW_DEV_SECRET="1", **env)
    return subprocess.run(
        [sys.executable, "-c", f"import hotline.settings as s; print(s.{name})"],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=False)


def test_hotline_acd_false_switches_the_queues_off() -> None:
    assert _settings_value("HOTLINE_ACD", HOTLINE_ACD="false").stdout.strip() == "False"
    assert _settings_value("HOTLINE_ACD").stdout.strip() == "True"
    refused = _settings_value("HOTLINE_ACD", HOTLINE_ACD="maybe")
    assert refused.returncode != 0 and "HOTLINE_ACD='maybe' is not a boolean" in refused.stderr


def test_the_gateway_takes_the_acd_switch_from_the_settings(settings: Settings) -> None:
    from hotline.voice.gateway import config_from_settings

    settings.HOTLINE_ACD = False
    settings.HOTLINE_SIP_TRUNK = ("10.0.0.9", 5080)
    config = config_from_settings()
    assert config.acd is False and config.trunk == ("10.0.0.9", 5080)
    settings.HOTLINE_ACD = True
    assert config_from_settings().acd is True
    settings.HOTLINE_FAX_NUMBERS = ["96110", "059187654321"]
    assert config_from_settings().fax_numbers == frozenset({"96110", "059187654321"})


def test_fax_numbers_are_digits(monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline.env import ConfigError, env_numbers

    monkeypatch.setenv("HOTLINE_FAX_NUMBERS", "96110, 059187654321")
    assert env_numbers("HOTLINE_FAX_NUMBERS") == ["96110", "059187654321"]
    monkeypatch.setenv("HOTLINE_FAX_NUMBERS", "96110,fax")
    with pytest.raises(ConfigError, match="'fax'"):
        env_numbers("HOTLINE_FAX_NUMBERS")


def test_the_launcher_switches_refuse_other_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline import launcher

    monkeypatch.setenv("HOTLINE_NO_DEMO", "maybe")
    with pytest.raises(ConfigError, match="HOTLINE_NO_DEMO='maybe' is not a boolean"):
        launcher.main(["--no-voice"])


def test_a_malformed_imap_url_stops_the_start() -> None:
    refused = _settings_value("HOTLINE_IMAP_URL", HOTLINE_IMAP_URL="pop3://u:p@mail.example.org")
    assert refused.returncode != 0 and "HOTLINE_IMAP_URL must be imaps://" in refused.stderr
    taken = _settings_value("HOTLINE_IMAP_URL", HOTLINE_IMAP_URL=" imaps://u:p@mail.example.org ")
    assert taken.stdout.strip() == "imaps://u:p@mail.example.org"
