"""Open311 GeoReport v2 against the examples and rules of the spec text
(``../shared/data/open311/GeoReport_v2_index.md``): discovery, the service list and
definitions, POST and GET requests in XML and JSON, tokens, errors, keys, and what the public
feed never shows (a 举报, a confidential order, who filed anything)."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from hotline.intake.models import Open311Key
from hotline.intake.open311.service import do_issue_key
from hotline.orders.models import Order

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
# The spec's example request, with our service code and a district attribute.
EXAMPLE = {"jurisdiction_id": "12345.localhost", "service_code": "100101",
           "lat": "37.76524078", "long": "-122.4212043", "address_string": "1234 5th street",
           "email": "smit333@sfgov.edu", "device_id": "tt222111", "account_id": "123456",
           "first_name": "john", "last_name": "smith", "phone": "111111111",
           "description": "A large sinkhole is destroying the street",
           "media_url": "http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg",
           "attribute[district]": "gulou"}


@pytest.fixture
def key(city: Any) -> str:
    return do_issue_key("city app")[1]


def post(client: Client, data: dict[str, str], fmt: str = "json", idempotency: str = "") -> Any:
    headers = {"Idempotency-Key": idempotency} if idempotency else {}
    return client.post(f"{BASE}/requests.{fmt}", data, headers=headers)


def xml(response: Any) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def test_discovery_names_the_v2_endpoint_in_both_formats(client: Client) -> None:
    doc = client.get("/open311/discovery.json").json()
    (endpoint,) = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/")
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml(client.get("/open311/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.iter("format")] == ["text/xml", "application/json"]


def test_the_service_list_is_the_catalogues_leaves(city: Any, client: Client) -> None:
    listed = client.get(f"{BASE}/services.json")
    assert listed["Content-Type"] == "application/json; charset=utf-8"
    services = listed.json()
    assert [s["service_code"] for s in services] == ["100101", "100201"]
    first = services[0]
    assert set(first) == {"service_code", "service_name", "description", "metadata", "type",
                          "keywords", "group"}
    assert (first["service_name"], first["group"], first["metadata"], first["type"]) == (
        "停水", "供水", True, "realtime")
    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    service = root.findall("service")[0]
    assert [child.tag for child in service] == ["service_code", "service_name", "description",
                                                "metadata", "type", "keywords", "group"]
    assert service.findtext("metadata") == "true" and service.findtext("service_name") == "停水"


def test_a_service_definition_has_its_attributes_and_values(city: Any, client: Client) -> None:
    definition = client.get(f"{BASE}/services/100101.json").json()
    assert definition["service_code"] == "100101"
    kind, district = definition["attributes"]
    assert (kind["code"], kind["datatype"], kind["order"], kind["variable"]) == (
        "type", "singlevaluelist", 1, True)
    assert {"key": "complaint", "name": "Complaint"} in kind["values"] or any(
        v["key"] == "complaint" for v in kind["values"])
    assert [v["key"] for v in district["values"]] == ["gulou", "taijiang"]
    root = xml(client.get(f"{BASE}/services/100101.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "100101"
    attribute = root.find("attributes/attribute")
    assert attribute is not None and attribute.findtext("datatype") == "singlevaluelist"
    assert attribute.find("datatype_description") is not None  # empty, as in the example
    assert len(root.findall("attributes/attribute/values/value")) >= 2
    missing = client.get(f"{BASE}/services/999.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404


def test_the_specs_example_request_files_an_order(city: Any, client: Client, key: str) -> None:
    r = post(client, {**EXAMPLE, "api_key": key})
    assert r.status_code == 200, r.content
    (answer,) = r.json()
    order = Order.objects.get(number=answer["service_request_id"])
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["account_id"] == "123456"
    assert (order.channel, order.category.code if order.category else None,
            order.district.code if order.district else None) == ("open311", "100101", "gulou")
    assert order.citizen.email == "smit333@sfgov.edu" and order.citizen.name == "smithjohn"
    assert {i.kind for i in order.citizen.identities.all()} == {"open311", "device"}
    assert order.address == "1234 5th street"
    # The XML answer has the spec's shape.
    root = xml(post(client, {**EXAMPLE, "api_key": key, "description": "another"}, "xml"))
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request is not None and request.findtext("service_request_id", "").isdigit()
    assert request.find("account_id") is not None and request.find("token") is None


def test_post_errors_are_the_specs_array(city: Any, client: Client, key: str) -> None:
    missing = post(client, EXAMPLE)
    assert missing.status_code == 403
    assert missing.json()[0]["code"] == 403 and "api_key" in missing.json()[0]["description"]
    wrong = xml(post(client, {**EXAMPLE, "api_key": "nope"}, "xml"))
    assert wrong.tag == "errors" and wrong.findtext("error/code") == "403"
    assert wrong.findtext("error/description") == (
        "Invalid api_key received -- can't proceed with create_request.")
    cases = [({"service_code": ""}, 400), ({"service_code": "9"}, 404),
             ({"lat": "", "long": "", "address_string": ""}, 400), ({"long": ""}, 400),
             ({"lat": "north"}, 400), ({"lat": "91"}, 400),
             ({"description": "x" * 4001}, 400), ({"attribute[type]": "gossip"}, 400),
             ({"attribute[district]": "atlantis"}, 400), ({"media_url": "file:///etc"}, 400),
             ({"phone": "12"}, 400), ({"jurisdiction_id": "other.gov"}, 404)]
    for change, status in cases:
        r = post(client, {**EXAMPLE, "api_key": key, **change})
        assert r.status_code == status, (change, r.content)
        assert r.json()[0]["code"] == status
    assert Order.objects.count() == 0
    revoked = Open311Key.objects.get()
    revoked.revoked_at = revoked.created_at
    revoked.save()
    assert post(client, {**EXAMPLE, "api_key": key}).status_code == 403


def test_a_retry_with_the_same_idempotency_key_is_one_request(city: Any, client: Client,
                                                              key: str) -> None:
    first = post(client, {**EXAMPLE, "api_key": key}, idempotency="k1").json()
    again = post(client, {**EXAMPLE, "api_key": key}, idempotency="k1").json()
    assert first[0]["service_request_id"] == again[0]["service_request_id"]
    assert Order.objects.count() == 1


def test_get_requests_with_the_specs_filters_and_window(city: Any, client: Client,
                                                        key: str) -> None:
    with time_machine.travel(dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC), tick=False):
        old = post(client, {**EXAMPLE, "api_key": key, "description": "old"}).json()[0]
    noise = post(client, {**EXAMPLE, "api_key": key, "service_code": "100201",
                          "description": "噪声 call me 13812345678"}).json()[0]
    water = post(client, {**EXAMPLE, "api_key": key}).json()[0]
    Order.objects.filter(number=water["service_request_id"]).update(
        state="closed", reply_text="已修复，联系13800001111")
    listed = client.get(f"{BASE}/requests.json").json()  # the last 90 days
    assert [r["service_request_id"] for r in listed] == [water["service_request_id"],
                                                         noise["service_request_id"]]
    one = next(r for r in listed if r["service_request_id"] == noise["service_request_id"])
    assert set(one) == {"service_request_id", "status", "status_notes", "service_name",
                        "service_code", "description", "agency_responsible", "service_notice",
                        "requested_datetime", "updated_datetime", "expected_datetime",
                        "address", "address_id", "zipcode", "lat", "long", "media_url"}
    assert one["status"] == "open" and one["lat"] == pytest.approx(37.76524078)
    assert one["description"] == "噪声 call me 138****5678"
    assert one["requested_datetime"].endswith("+08:00")
    closed = client.get(f"{BASE}/requests.json?status=closed").json()
    assert [(r["status"], r["status_notes"]) for r in closed] == [("closed", "已修复，联系138****1111")]
    assert [r["service_code"] for r in client.get(
        f"{BASE}/requests.json?service_code=100201").json()] == ["100201"]
    window = client.get(f"{BASE}/requests.json?start_date=2026-05-01T00:00:00Z"
                        "&end_date=2026-07-01T00:00:00%2B08:00").json()
    assert [r["service_request_id"] for r in window] == [old["service_request_id"]]
    by_id = client.get(f"{BASE}/requests.json?service_request_id={old['service_request_id']},"
                       f"{noise['service_request_id']}&status=closed").json()
    assert len(by_id) == 2  # the ids override every other argument
    for bad in ("start_date=2026-01-01", "start_date=yesterday", "status=pending",
                "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"):
        r = client.get(f"{BASE}/requests.json?{bad}")
        assert r.status_code == 400 and r.json()[0]["code"] == 400, bad
    root = xml(client.get(f"{BASE}/requests.xml"))
    assert root.tag == "service_requests" and len(root.findall("request")) == 2
    detail = xml(client.get(f"{BASE}/requests/{water['service_request_id']}.xml"))
    assert detail.findtext("request/status") == "closed"
    assert detail.find("request/zipcode") is not None


def test_the_feed_never_shows_a_report_a_confidential_order_or_who_filed(city: Any,
                                                                       client: Client,
                                                                       key: str) -> None:
    report = post(client, {**EXAMPLE, "api_key": key, "attribute[type]": "report",
                           "description": "某单位违规收费"}).json()[0]
    public = post(client, {**EXAMPLE, "api_key": key}).json()[0]
    listed = client.get(f"{BASE}/requests.json")
    assert [r["service_request_id"] for r in listed.json()] == [public["service_request_id"]]
    assert client.get(f"{BASE}/requests/{report['service_request_id']}.json").status_code == 404
    ids = client.get(f"{BASE}/requests.json?service_request_id={report['service_request_id']}")
    assert ids.json() == []
    everything = b"".join(client.get(url).content for url in (
        f"{BASE}/requests.json", f"{BASE}/requests.xml",
        f"{BASE}/requests/{public['service_request_id']}.json"))
    for personal in (b"smit333", b"john", b"smith", b"111111111", b"tt222111", b"123456\""):
        assert personal not in everything
    # An order that came by phone is not in the feed either.
    phone_order = Order.objects.exclude(number__in=[report["service_request_id"],
                                                    public["service_request_id"]])
    assert not phone_order.exists()


def test_a_token_answers_with_its_request(city: Any, client: Client, key: str) -> None:
    from hotline.intake.models import ReceivedMessage

    number = post(client, {**EXAMPLE, "api_key": key}).json()[0]["service_request_id"]
    token = ReceivedMessage.objects.get(order__number=number).pk
    assert client.get(f"{BASE}/tokens/{token}.json").json() == [
        {"service_request_id": number, "token": str(token)}]
    root = xml(client.get(f"{BASE}/tokens/{token}.xml"))
    assert root.findtext("request/service_request_id") == number
    assert client.get(f"{BASE}/tokens/999999.json").status_code == 404


def test_issue_open311_key_prints_a_key_kept_only_as_a_hash(db: None, client: Client) -> None:
    out = StringIO()
    call_command("issue_open311_key", "partner app", stdout=out)
    key = out.getvalue().split(": ", 1)[1].split()[0]
    row = Open311Key.objects.get()
    assert row.name == "partner app" and key not in row.key_hash and len(key) >= 40
    assert json.loads(client.get(f"{BASE}/services.json").content) == []
