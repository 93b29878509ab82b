"""Every variable the code reads is in .env.example with a comment, and every one listed there
is read; nothing but the settings (and the launcher, before they load) reads the environment."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOTLINE = ROOT / "hotline"
# Where the environment is read, through the typed helpers of hotline/env.py.
READERS = [HOTLINE / "settings.py", HOTLINE / "env.py", HOTLINE / "launcher.py",
           HOTLINE / "voice" / "server.py"]
HELPER_CALL = re.compile(
    r"\benv_(?:str|bool|int|int_at_least|float|list|networks|numbers|choice|host_port|port_range|time)"
    r"\(\s*\"([A-Z][A-Z0-9_]*)\"")
EXAMPLE_LINE = re.compile(r"^([A-Z][A-Z0-9_]*)=", re.M)


def variables_read() -> set[str]:
    found: set[str] = set()
    for path in READERS:
        found |= set(HELPER_CALL.findall(path.read_text(encoding="utf-8")))
    return found


def example() -> str:
    return (ROOT / ".env.example").read_text(encoding="utf-8")


def test_the_readers_are_found() -> None:
    read = variables_read()
    assert {"DATABASE_URL", "HOTLINE_ACD", "HOTLINE_NO_DEMO", "HOTLINE_SIP_BIND"} <= read


def test_every_variable_read_is_in_env_example_and_every_listed_one_is_read() -> None:
    listed = set(EXAMPLE_LINE.findall(example()))
    read = variables_read()
    assert sorted(read - listed) == [], "read by the code but missing from .env.example"
    assert sorted(listed - read) == [], "listed in .env.example but read nowhere"


def test_every_variable_in_env_example_comes_under_a_comment() -> None:
    lines = example().splitlines()
    for index, line in enumerate(lines):
        if not EXAMPLE_LINE.match(line):
            continue
        above = index - 1
        while above >= 0 and EXAMPLE_LINE.match(lines[above]):
            above -= 1
        assert above >= 0 and lines[above].startswith("#"), f"{line}: no comment above it"


def test_nothing_else_reads_the_environment_or_hides_a_default() -> None:
    allowed = {HOTLINE / "settings.py", HOTLINE / "settings_test.py", HOTLINE / "env.py"}
    reading = re.compile(r"os\.environ\.get\(|os\.environ\[|os\.getenv\(|\benviron\.get\(")
    hidden_default = re.compile(r"getattr\(\s*settings\s*,[^,()]+,")
    offenders = []
    for path in sorted(HOTLINE.rglob("*.py")):
        if path in allowed:
            continue
        text = path.read_text(encoding="utf-8")
        for pattern in (reading, hidden_default):
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert offenders == []
