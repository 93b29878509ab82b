"""Finding 1 of issue 10: a department learned who filed a 举报 from the orders around it (the
"same caller" of a merge or link, the citizen of an order merged into the 举报, the contacts a
merge moves, the citizen's own file names, notes naming the citizen). Each test has the centre's
agent, who may know the citizen, see what the department must not."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hotline.orders.attachments import do_attach
from hotline.orders.disclosure import redact_citizen
from hotline.orders.models import Attachment, Contact, Order
from hotline.orders.services import NewOrder, do_action, do_create_order
from tests.api.conftest import ApiClient

PHONE = "13900005678"
NAME = "李四"


def _order(city: Any, **overrides: Any) -> Order:
    fields: dict[str, Any] = dict(
        type="complaint", channel="phone", title="停水三天", text="鼓楼区某小区停水三天",
        citizen_phone=PHONE, citizen_name=NAME, district="gulou", category="100101",
    )
    fields.update(overrides)
    order, _created = do_create_order(city.agent, NewOrder(**fields))
    return order


def _dispatched(city: Any, **overrides: Any) -> Order:
    order = _order(city, **overrides)
    return do_action(city.agent, order.number, "dispatch")


def _events(user: Any, order: Order, action: str) -> list[dict[str, Any]]:
    body = ApiClient(user).get(f"/orders/{order.number}").json()
    return [e for e in body["events"] if e["action"] == action]


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_merging_a_report_into_the_callers_complaint_does_not_say_same_caller(city: Any) -> None:
    complaint = _dispatched(city)
    report = _order(city, type="report", title="举报偷排")
    do_action(city.agent, report.number, "merge", {"into": complaint.number})
    [theirs] = _events(city.handler, complaint, "merge")
    assert theirs["data"] == {"merged": report.number, "contacts": 1}
    [ours] = _events(city.agent, complaint, "merge")
    assert ours["data"]["same_caller"] is True


def test_linking_a_report_as_a_duplicate_does_not_say_same_caller(city: Any) -> None:
    report = _dispatched(city, type="report", title="举报偷排")
    complaint = _dispatched(city)
    do_action(city.agent, report.number, "link", {"other": complaint.number, "kind": "duplicate"})
    for order in (report, complaint):
        for event in _events(city.handler, order, "link"):
            assert "same_caller" not in event["data"]
    [ours] = _events(city.agent, report, "link")
    assert ours["data"]["same_caller"] is True


def test_the_report_page_does_not_name_the_citizen_of_an_order_merged_into_it(city: Any) -> None:
    report = _dispatched(city, type="report", title="举报偷排")
    complaint = _dispatched(city)
    do_action(city.agent, complaint.number, "merge", {"into": report.number})

    def page(user: Any) -> str:
        client = Client()
        client.force_login(user)
        response = client.get(f"/orders/{report.number}/")
        assert response.status_code == 200
        return response.content.decode()

    html = page(city.handler)
    assert complaint.number in html.split('id="order-links"')[1]  # the panel is there
    assert NAME not in html and PHONE not in html
    assert NAME in page(city.agent)


def test_the_contacts_a_merge_moves_from_a_report_stay_with_the_centre(city: Any) -> None:
    complaint = _dispatched(city, citizen_phone="13812341234", citizen_name="张三")
    report = _order(city, type="report", title="举报偷排", contact_summary=f"{NAME}来电举报")
    reported = Contact.objects.get(orders=report)
    do_action(city.agent, report.number, "merge", {"into": complaint.number})
    theirs = ApiClient(city.handler).get(f"/orders/{complaint.number}").json()["contacts"]
    assert reported.pk not in [c["id"] for c in theirs] and len(theirs) == 1
    ours = ApiClient(city.agent).get(f"/orders/{complaint.number}").json()["contacts"]
    assert reported.pk in [c["id"] for c in ours]


def test_the_citizens_file_names_on_a_report_are_not_shown_to_the_department(
        city: Any, media: Any) -> None:
    report = _dispatched(city, type="report", title="举报偷排")
    upload = SimpleUploadedFile(f"{NAME}身份证.TXT", "身份证复印件说明".encode(),
                                content_type="text/plain")
    attachment = do_attach(city.agent, report, upload, Attachment.Kind.INTAKE)
    [shown] = ApiClient(city.handler).get(f"/orders/{report.number}").json()["attachments"]
    assert shown["name"] == f"intake-{attachment.pk}.txt"
    for url in (shown["url"], f"/orders/{report.number}/files/{attachment.pk}/"):
        client = Client()
        client.force_login(city.handler)
        response = client.get(url)
        assert response.status_code == 200
        assert f"intake-{attachment.pk}.txt" in response["Content-Disposition"]
    [ours] = ApiClient(city.agent).get(f"/orders/{report.number}").json()["attachments"]
    assert ours["name"] == f"{NAME}身份证.TXT"


def test_notes_naming_the_reporter_reach_the_department_without_the_name(city: Any) -> None:
    report = _dispatched(city, type="report", title="举报偷排")
    do_action(city.handler, report.number, "sign")
    do_action(city.agent, report.number, "urge", {"note": f"{NAME}（{PHONE}）再次来电催办"})
    [theirs] = _events(city.handler, report, "urge")
    assert theirs["note"] == "***（***）再次来电催办"
    [ours] = _events(city.agent, report, "urge")
    assert NAME in ours["note"]


def test_redaction_finds_the_number_however_it_is_written() -> None:
    text = "李四 139 0000 5678、139-0000-5678、+86 13900005678、139****5678，另有1390000567899"
    assert redact_citizen(text, NAME, PHONE) == "*** ***、***、***、***，另有1390000567899"
