"""Fifty real letters of Shangluo's mayor's mailbox (needs ../shared/data, see its README):
received through the letter service, answered through the order lifecycle, then read back on
the public list, page by page, and found by words of their titles and replies."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django.test import Client

from hotline.demo import mailbox as demo_mailbox
from hotline.intake.mailbox_public import public_letters, published_letters
from hotline.orders.models import Order

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_django.fixtures import Settings

    from tests.conftest import City

COUNT = 50
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")

pytestmark = pytest.mark.shared_data


def test_fifty_real_letters_are_published_listed_and_searchable(
        city: City, settings: Settings, tmp_path: Path) -> None:
    path = demo_mailbox.SHANGLUO_CSV  # read at call time: a run may point it elsewhere
    if not path.exists():
        pytest.skip(f"shared data absent: {path} (see shared/data/README.md)")
    settings.MEDIA_ROOT = tmp_path
    rows = demo_mailbox.read_rows(path, COUNT)
    assert len(rows) == COUNT

    result = demo_mailbox.load_letters(path, COUNT)
    assert (result.created, result.skipped) == (COUNT, 0)
    assert demo_mailbox.load_letters(path, COUNT).skipped == COUNT  # a second run adds none
    assert Order.objects.filter(channel="mailbox").count() == COUNT
    assert published_letters().count() == COUNT
    shown = public_letters(list(published_letters()))
    # Replies of the city's departments went to the fixture's departments that do that work;
    # the general offices' replies were the centre's own.
    assert {row.replied_by for row in shown} >= {"市12345热线中心"}

    visitor = Client()
    titles: list[str] = []
    for number in range(1, 6):
        body = visitor.get(f"/citizen/mailbox/?page={number}").content.decode()
        assert body.count('<li class="card">') == 10
        titles += re.findall(r'<h2><a href="/citizen/mailbox/\d+/">([^<]*)</a></h2>', body)
        for mobile in MOBILE.findall(body):
            pytest.fail(f"a mobile number on page {number}: {mobile}")
    assert 'rel="next"' not in body
    assert sorted(titles) == sorted(letter.title for letter in published_letters())

    # Words of a title find that letter; every letter found contains the words.
    for row in rows[::10]:
        word = row.title[:4]
        found = published_letters(word)
        assert any(letter.order.title.startswith(row.title[:20]) for letter in found), word
        for letter in found:
            assert word in letter.title or word in letter.text or word in letter.order.reply_text
        body = visitor.get("/citizen/mailbox/", {"q": word}).content.decode()
        assert f"{found.count()} letter" in body
    # A word only the replies use finds letters by their reply.
    reply_word = "网友你好"
    by_reply = published_letters(reply_word)
    assert by_reply.exists()
    assert all(reply_word in letter.order.reply_text or reply_word in letter.text
               for letter in by_reply)

    # Each letter's own page shows it with its reply, and nothing names the writer.
    for letter in list(published_letters())[:COUNT:7]:
        page = visitor.get(f"/citizen/mailbox/{letter.pk}/").content.decode()
        assert letter.title in page
        assert letter.order.citizen.name not in page
        assert letter.order.citizen.phone not in page and letter.order.number not in page
        assert not MOBILE.findall(page)


@pytest.mark.parametrize("agency, code", [
    ("商洛市公安局交通警察支队", "traffic-police"), ("市城管局 市交警支队", "traffic-police"),
    ("商洛市公安局", "police"), ("商洛市住房和城乡建设局", "housing"),
    ("商洛市民政局", "civil"), ("洛南县人民政府办公室", None), ("市信息办", None),
])
def test_replies_go_to_the_unit_doing_that_work(agency: str, code: str | None) -> None:
    found = [c for words, c in demo_mailbox.AGENCY_UNITS if any(w in agency for w in words)]
    assert (found[0] if found else None) == code
