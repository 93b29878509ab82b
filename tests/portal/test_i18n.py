"""The pages speak Simplified Chinese by default and English on request; the catalogue is
complete."""

from __future__ import annotations

import ast
import subprocess
from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from tests.portal.conftest import LOCALE_DIR, ensure_compiled_messages

if TYPE_CHECKING:
    from django.test import Client
    from pytest_django.fixtures import Settings

    from tests.conftest import City

PO = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po"


def po_entries(text: str) -> list[tuple[str, str, str]]:
    """(msgid, msgstr, flags) of every entry of a .po file."""
    entries: list[tuple[str, str, str]] = []
    for block in text.split("\n\n"):
        parts = {"msgid": "", "msgstr": ""}
        field = None
        flags = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                flags += line
            elif line.startswith(("msgid ", "msgstr ", "msgid_plural ", "msgstr[")):
                field, _, value = line.partition(" ")
                # A plural entry counts as translated when its (only, in Chinese) form is.
                field = {"msgid_plural": "plural", "msgstr[0]": "msgstr"}.get(field, field)
                parts[field] = ast.literal_eval(value)
            elif line.startswith('"') and field:
                parts[field] += ast.literal_eval(line)
        if field:
            entries.append((parts["msgid"], parts["msgstr"], flags))
    return entries


def test_catalogue_has_a_translation_for_every_message() -> None:
    entries = [e for e in po_entries(PO.read_text(encoding="utf-8")) if e[0]]
    assert len(entries) > 400
    assert [msgid for msgid, msgstr, _ in entries if not msgstr] == []
    assert [msgid for msgid, _, flags in entries if "fuzzy" in flags] == []
    # msgfmt --check verifies that every translation keeps the placeholders of its msgid.
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(PO)], check=True)


@pytest.fixture
def chinese(settings: Settings) -> None:
    ensure_compiled_messages()
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.mark.django_db
def test_pages_are_chinese_by_default(client: Client, city: City, chinese: None) -> None:
    html = client.get(reverse("portal:login")).content.decode()
    assert "工作人员登录" in html and 'lang="zh-CN"' in html
    client.force_login(city.handler)
    html = client.get(reverse("portal:workbench")).content.decode()
    for label in ("待签收", "办理中", "即将超期", "已超期"):
        assert label in html


@pytest.mark.django_db
def test_language_switch_to_english(client: Client, city: City, chinese: None) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/status/"})
    assert response.status_code == 302 and response["Location"] == "/status/"
    html = client.get(reverse("portal:status")).content.decode()
    assert "Check my request" in html and "诉求查询" not in html
