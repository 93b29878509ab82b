"""Each named user of the fixture city against each endpoint: status codes, and how much of the
citizen each one sees (full, masked 138****1234, or hidden for confidential/举报 orders)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hotline.orders.lifecycle import ACTION_ROLES, Action
from tests.api.conftest import ApiClient, dispatched_order
from tests.core.test_files import image_bytes

if TYPE_CHECKING:
    from tests.conftest import City

FULL = ("张三", "13812341234")
MASKED = ("张*", "138****1234")
HIDDEN = ("", "")
SECRET_FULL = ("李四", "13998765432")
NO = None  # the order is outside the user's scope: 404

# user: (normal order citizen, confidential 举报 order citizen, may create, may urge,
#        may sign, may attach "other", may attach "reply")
MATRIX = {
    "agent":           (FULL, SECRET_FULL, True, True, False, True, False),
    "monitor":         (FULL, SECRET_FULL, True, True, False, True, False),
    "admin":           (FULL, SECRET_FULL, True, True, False, True, False),
    "handler":         (FULL, HIDDEN, False, False, True, True, True),
    "dept_admin":      (FULL, HIDDEN, False, False, True, True, True),
    "housing_handler": (FULL, HIDDEN, False, False, False, True, False),
    "env_handler":     (NO, NO, False, False, False, False, False),
    "sub_agent":       (FULL, NO, True, True, False, True, False),
    "street_handler":  (NO, NO, False, False, False, False, False),
    "leader":          (MASKED, HIDDEN, False, False, False, True, False),
    "auditor":         (MASKED, HIDDEN, False, False, False, False, False),
    "system":          (MASKED, HIDDEN, True, True, False, True, False),
    "security_admin":  (NO, NO, False, False, False, False, False),
    "audit_admin":     (NO, NO, False, False, False, False, False),
}

# Similar open orders (to merge or link): the centre's desk only.
MAY_LOOK_FOR_SIMILAR = {"agent", "monitor", "admin", "sub_agent"}


def _upload(client: ApiClient, number: str, kind: str) -> int:
    f = SimpleUploadedFile("photo.jpg", image_bytes("JPEG"), content_type="image/jpeg")
    return client.client.post(f"/api/v1/orders/{number}/attachments",
                              {"file": f, "kind": kind}).status_code


@pytest.mark.parametrize("who", list(MATRIX))
def test_role_endpoint_matrix(city: City, media: Path, who: str) -> None:
    normal_citizen, secret_citizen, may_create, may_urge, may_sign, may_attach, may_reply_file = \
        MATRIX[who]
    normal = dispatched_order(city)
    secret = dispatched_order(city, type="report", district="taijiang", title="举报违建",
                              citizen_name="李四", citizen_phone="13998765432")
    client = ApiClient(getattr(city, who))

    for order, expected in ((normal, normal_citizen), (secret, secret_citizen)):
        r = client.get(f"/orders/{order.number}")
        if expected is NO:
            assert r.status_code == 404, (who, order.title)
            assert r.json() == {"detail": f"no work order {order.number}"}
            continue
        assert r.status_code == 200, (who, order.title)
        citizen = r.json()["citizen"]
        assert (citizen["name"], citizen["phone"]) == expected, (who, order.title)
        assert citizen["hidden"] == (expected == HIDDEN)
        if expected != SECRET_FULL and expected != FULL:
            # Neither name nor number leaks anywhere else in the body.
            assert "13998765432" not in r.content.decode()
            assert "13812341234" not in r.content.decode()

    visible = {normal.number: normal_citizen, secret.number: secret_citizen}
    listed = client.get("/orders").json()
    assert {i["number"] for i in listed["items"]} == {n for n, c in visible.items() if c is not NO}
    assert "citizen" not in (listed["items"][0] if listed["items"] else {})

    r = client.post("/orders", {"type": "help", "title": "求助", "text": "老人走失"})
    assert r.status_code == (201 if may_create else 403), who

    # The endpoint's rule (the lifecycle's roles) comes first: 403 for every number alike, so
    # it tells nothing about which orders exist; then scope (404), then the unit (403).
    role = getattr(city, who).role

    def gate(action: str, may: bool, ok: int) -> int:
        if role not in ACTION_ROLES[Action(action)]:
            return 403
        return 404 if normal_citizen is NO else (ok if may else 403)

    expected_status = gate("urge", may_urge, 200)
    assert client.post(f"/orders/{normal.number}/urge", {}).status_code == expected_status, who

    expected_status = gate("sign", may_sign, 200)
    assert client.post(f"/orders/{normal.number}/sign", raw="").status_code == expected_status

    expected_status = 404 if normal_citizen is NO else (201 if may_attach else 403)
    assert _upload(client, normal.number, "other") == expected_status, who
    expected_status = 404 if normal_citizen is NO else (201 if may_reply_file else 403)
    assert _upload(client, normal.number, "reply") == expected_status, who

    may_look = who in MAY_LOOK_FOR_SIMILAR
    r = client.post("/orders/similar", {"text": "鼓楼区某小区停水三天"})
    assert r.status_code == (200 if may_look else 403), who
    expected_status = gate("link", may_look, 200)
    assert client.get(f"/orders/{normal.number}/similar").status_code == expected_status, who
    r = client.post(f"/orders/{normal.number}/link", {"other": secret.number})
    assert r.status_code == (expected_status if secret_citizen is not NO or not may_look
                             else 422), who

    for path in ("/categories", "/units", "/districts"):
        assert client.get(path).status_code == 200


def test_every_fixture_user_is_in_the_matrix(city: City) -> None:
    users = {name for name, value in vars(city).items() if hasattr(value, "role")}
    assert users == set(MATRIX)
