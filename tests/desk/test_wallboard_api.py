"""GET /api/v1/desk/wallboard: the wallboard's figures as JSON, for monitors and admins only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hotline.api.tokens import do_issue_token
from hotline.contactcentre import services

pytestmark = pytest.mark.django_db

URL = "/api/v1/desk/wallboard"


def test_monitors_get_the_figures(desk: Any, client: Client) -> None:
    services.do_sign_in(desk.agent)
    services.do_set_state(desk.agent, "not_ready", reason="meal")
    services.do_sign_in(desk.bob)
    services.do_set_state(desk.bob, "ready")
    call = services.do_enqueue_call(desk.general, call_ref="c1", caller="13800000000")
    assert services.do_offer_call(call, desk.bob.pk)
    services.do_call_answered(call.pk)
    services.do_enqueue_call(desk.general, call_ref="c2", caller="13900000000")
    _token, secret = do_issue_token(desk.monitor)
    response = client.get(URL, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    body = response.json()
    assert (body["waiting"], body["target_share"]) == (1, 0.8)
    assert body["agents"] == {"signed_in": 2, "not_yet_ready": 0, "ready": 0, "not_ready": 1,
                              "not_ready_by_reason": {"meal": 1}, "ringing": 0, "talking": 1,
                              "wrap_up": 0}
    general = next(q for q in body["queues"] if q["code"] == "general")
    assert (general["waiting"], general["last15"]["answered"], general["last15"]["offered"],
            general["last15"]["service_level"]) == (1, 1, 2, 1.0)
    assert general["forecast"]["serving"] == 1
    rows = {r["name"]: r for r in body["agent_rows"]}
    assert rows["张坐席"]["caller"] == "138****0000" and rows["张坐席"]["call"] == call.pk
    assert rows["王坐席"]["reason"] == "meal"
    assert "13800000000" not in response.content.decode()


@pytest.mark.parametrize("who", ["agent", "handler", "leader", "auditor"])
def test_others_get_403(desk: Any, client: Client, who: str) -> None:
    client.force_login(getattr(desk, who))
    response = client.get(URL)
    assert response.status_code == 403
    assert response.json()["detail"] == \
        "only shift monitors and centre administrators see the wallboard"


def test_the_centre_admin_with_a_session_and_anonymous_callers(desk: Any, client: Client) -> None:
    assert client.get(URL).status_code == 401
    client.force_login(desk.admin)
    assert client.get(URL).status_code == 200


def test_the_schema_documents_403(client: Client) -> None:
    operation = client.get("/api/v1/openapi.json").json()["paths"][URL]["get"]
    assert {"200", "401", "403", "422"} <= set(operation["responses"])
