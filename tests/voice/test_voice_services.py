"""The IVR's calls into the platform, without a telephone: orders, contacts, knowledge."""

import datetime as dt
import time
import wave
from pathlib import Path
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from hotline.contactcentre.ivr import node_visit_counts, visits_for_contact
from hotline.contactcentre.ivr_outcome import VisitOutcome
from hotline.knowledge.models import Entry
from hotline.knowledge.services import EntryData, do_create_entry, do_entry_action
from hotline.orders.attachments import visible_attachments
from hotline.orders.models import Attachment, Contact, Order
from hotline.orders.services import NewOrder, do_action, do_create_order
from hotline.voice import services
from hotline.voice.ivr.engine import NodeVisit
from hotline.voice.services import CallContext
from tests.conftest import City

pytestmark = pytest.mark.django_db
CALLER = "13800138000"


@pytest.fixture(autouse=True)
def media_root(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LANGUAGE_CODE = "en"  # the summaries' msgids (the gateway uses the default language)


@pytest.fixture
def call(city: City) -> CallContext:
    context = CallContext("call-1@test", CALLER)
    context.contact_id = services.start_call(context)
    return context


def recording(tmp_path: Path, seconds: float = 1.0) -> str:
    path = tmp_path / "rec.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x01\x00" * int(8000 * seconds))
    return str(path)


@pytest.mark.parametrize("raw, number", [
    ("13800138000", "13800138000"), ("+8613800138000", "+8613800138000"),
    ("sipp", ""), (None, ""), ("1234", ""), ("tel-010-12345678", "01012345678"),
])
def test_the_callers_number_is_the_from_user_digits(raw: str | None, number: str) -> None:
    assert services.caller_number(raw) == number


def test_complaint_creates_an_order_linked_to_the_call_with_the_recording(call: CallContext,
                                                                          tmp_path: Path) -> None:
    result = services.create_order(call, {"type": "complaint", "recording": recording(tmp_path),
                                          "seconds": "1.0"})
    order = Order.objects.get(number=result["number"])
    assert result["outcome"] == "ok"
    assert (order.type, order.channel, order.citizen.phone) == ("complaint", "phone", CALLER)
    contacts = order.contacts.values_list("pk", flat=True)  # type: ignore[attr-defined]
    assert list(contacts) == [call.contact_id]
    attachment = order.attachments.get()
    assert attachment.kind == Attachment.Kind.RECORDING and attachment.size == 44 + 16000
    with attachment.file.open("rb") as stored:
        assert stored.read()[:4] == b"RIFF"
    assert call.orders == [order.number]


def test_voicemail_is_a_suggestion_on_the_voicemail_channel(call: CallContext, tmp_path: Path) -> None:
    result = services.voicemail(call, {"recording": recording(tmp_path), "seconds": "1.0"})
    order = Order.objects.get(number=result["number"])
    assert (order.type, order.channel) == ("suggestion", "voicemail")
    assert order.attachments.get().kind == Attachment.Kind.RECORDING


def test_recordings_are_hidden_from_whoever_may_not_know_the_citizen(call: CallContext, tmp_path: Path,
                                                                     city: City) -> None:
    number = services.create_order(call, {"type": "complaint",
                                          "recording": recording(tmp_path)})["number"]
    order = Order.objects.get(number=number)
    assert visible_attachments(city.agent, order).count() == 1
    order.confidential = True
    order.save(update_fields=["confidential"])
    assert visible_attachments(city.handler, order).count() == 0


def test_status_lookup_only_for_the_callers_own_orders(call: CallContext, city: City) -> None:
    mine, _ = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="停水", text="三天没水", citizen_phone=CALLER,
        category="100101"))
    do_action(city.agent, mine.number, "dispatch", {})
    theirs, _ = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="噪声", text="夜间施工", citizen_phone="13900001111"))
    found = services.lookup_order(call, {"number": mine.number})
    assert found["outcome"] == "found" and found["state"] == "dispatched"
    lead_unit = Order.objects.get(pk=mine.pk).lead_unit
    assert lead_unit is not None
    assert found["department"] == lead_unit.name
    assert services.lookup_order(call, {"number": theirs.number}) == {"outcome": "not_found"}
    anonymous = CallContext("call-2@test", "")
    assert services.lookup_order(anonymous, {"number": mine.number}) == {"outcome": "not_found"}


def publish(city: City, **fields: Any) -> Entry:
    values = dict(kind="faq", title="停水了怎么办", body="<p>请提前<b>储水</b>。</p>",
                  keywords="停水", categories=["100101"])
    data = EntryData(**{**values, **fields})
    entry = do_create_entry(city.handler, data)
    do_entry_action(city.handler, entry.pk, "submit")
    return do_entry_action(city.monitor, entry.pk, "publish")


def test_voice_entries_are_the_published_public_ones_marked_for_voice(call: CallContext, city: City) -> None:
    assert services.voice_entries(call, {}) == {"outcome": "empty", "entries": []}
    publish(city, for_voice=True)
    publish(city, for_voice=False, title="不读")
    publish(city, for_voice=True, public=False, title="内部")
    result = services.voice_entries(call, {})
    assert result["outcome"] == "ok"
    assert [(e["title"], e["text"]) for e in result["entries"]] == [("停水了怎么办", "请提前储水。")]


def test_sms_poll_and_call_back_are_contacts(call: CallContext) -> None:
    services.send_sms(call, {"title": "停水", "text": "请提前储水。"})
    services.poll_answer(call, {"question": "satisfaction", "answer": "2"})
    services.callback(call, {})
    sms = Contact.objects.get(channel="sms")
    assert sms.direction == "out" and "请提前储水" in sms.summary and "no SMS gateway" in sms.summary
    assert Contact.objects.filter(summary="poll: question=satisfaction, answer=2").exists()
    assert Contact.objects.filter(summary__startswith="Call-back requested").count() == 1
    assert {c.citizen.phone if c.citizen else None for c in Contact.objects.all()} == {CALLER}


def _path(*steps: tuple[str, str, float, float]) -> list[NodeVisit]:
    """Closed visits: (node, digits, entered, left); the last one is left open."""
    visits = [NodeVisit(node, entered, digits=digits) for node, digits, entered, _ in steps]
    for visit, (_, _, _, left) in zip(visits[:-1], steps[:-1], strict=True):
        visit.close(VisitOutcome.CHOSEN, left)
    return visits


def test_the_call_contact_keeps_the_path_and_counts_visits(call: CallContext) -> None:
    assert call.contact_id is not None
    t0 = time.time() - 30
    services.finish_call(call, _path(("welcome", "2", t0, t0 + 4.5),
                                     ("self_service", "9", t0 + 4.5, t0 + 7.0),
                                     ("welcome", "", t0 + 7.0, 0)), "remote_bye")
    other = CallContext("call-3@test", CALLER)
    other.contact_id = services.start_call(other)
    human = _path(("welcome", "0", t0, t0 + 2), ("human", "", t0 + 2, 0))
    human[-1].close(VisitOutcome.TRANSFERRED, t0 + 2.5)
    services.finish_call(other, human, "transfer:human")
    summary = Contact.objects.get(pk=call.contact_id).summary
    assert summary == "IVR: welcome > self_service > welcome [remote_bye]"  # for people
    # The trail as rows: node, keys, how each was left and for how long.
    rows = visits_for_contact(call.contact_id)
    assert [(r.position, r.node, r.digits, r.outcome) for r in rows] == [
        (1, "welcome", "2", "chosen"), (2, "self_service", "9", "chosen"),
        (3, "welcome", "", "caller_hung_up")]
    assert [round(r.duration_s, 1) for r in rows[:2]] == [4.5, 2.5]
    assert rows[2].duration_s >= 20  # open until the call ended, just now
    assert rows[0].entered_at == dt.datetime.fromtimestamp(t0, tz=dt.UTC)
    assert {r.call_ref for r in rows} == {"call-1@test"}
    assert [(r.node, r.outcome) for r in visits_for_contact(other.contact_id)] == [
        ("welcome", "chosen"), ("human", "transferred")]
    assert node_visit_counts() == {"welcome": 3, "self_service": 1, "human": 1}
    # The counts come from the rows, not from the text a person may edit.
    Contact.objects.filter(pk=call.contact_id).update(summary="edited")
    assert node_visit_counts() == {"welcome": 3, "self_service": 1, "human": 1}
    assert node_visit_counts(since=dt.datetime.fromtimestamp(t0 + 3, tz=dt.UTC)) == {
        "self_service": 1, "welcome": 1}


def test_a_failing_service_is_the_error_outcome(call: CallContext) -> None:
    assert services.run_service("create_order", call, {"type": "nonsense"}) == {"outcome": "error"}
