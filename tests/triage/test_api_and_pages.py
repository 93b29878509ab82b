"""The suggestion and model endpoints and pages: who may use them, what bad input gets."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from hotline.triage.models import ClassifierVersion, ModelStatus
from hotline.triage.training import do_train_classifier
from tests.triage.conftest import labelled_history

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

    from hotline.directory.models import User
    from tests.conftest import City

pytestmark = pytest.mark.usefixtures("model_dir")

API = "/api/v1/triage"


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _post(client: Client, path: str, data: object = None) -> _MonkeyPatchedWSGIResponse:
    return client.post(API + path, json.dumps(data or {}), content_type="application/json")


@pytest.fixture
def trained(city: City) -> City:
    labelled_history(city)
    do_train_classifier()
    return city


def test_agent_gets_ranked_suggestions_with_the_route(trained: City) -> None:
    answer = _post(_client(trained.agent), "/suggest",
                   {"text": "夜里工地施工噪音太大", "district": "gulou"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["model"]["version"] == 1 and body["reason"] == ""
    top = body["suggestions"][0]
    assert top["category"] == "100201" and top["category_path"] == ["城乡建设", "噪声扰民"]
    assert top["lead_unit"]["code"] == "gulou-sub"


def test_without_a_model_the_answer_says_so(city: City) -> None:
    body = _post(_client(city.agent), "/suggest", {"text": "停水"}).json()
    assert body == {"model": None, "reason": "no_model", "suggestions": []}


@pytest.mark.parametrize("data, field", [
    ({"text": "停水", "district": "nowhere"}, "district"),
    ({"text": "停" * 5001}, "text"),
    ({"text": "停水", "limit": 0}, "limit"),
    ({}, "text"),
])
def test_bad_input_is_a_clear_4xx(city: City, data: dict[str, Any], field: str) -> None:
    answer = _post(_client(city.agent), "/suggest", data)
    assert answer.status_code in (400, 422)
    assert field in json.dumps(answer.json())


@pytest.mark.parametrize("who, status", [
    ("agent", 200), ("monitor", 200), ("admin", 200), ("sub_agent", 200),
    ("handler", 403), ("dept_admin", 403), ("leader", 403), ("auditor", 403), (None, 401),
])
def test_who_may_ask_for_suggestions(city: City, who: str | None, status: int) -> None:
    client = _client(getattr(city, who) if who else None)
    assert _post(client, "/suggest", {"text": "停水"}).status_code == status


@pytest.mark.parametrize("who, status", [
    ("monitor", 200), ("admin", 200), ("agent", 403), ("handler", 403), ("leader", 403), (None, 401),
])
def test_who_may_see_the_versions(trained: City, who: str | None, status: int) -> None:
    answer = _client(getattr(trained, who) if who else None).get(API + "/models")
    assert answer.status_code == status
    if status == 200:
        assert answer.json()[0]["version"] == 1 and answer.json()[0]["status"] == "active"


def test_only_the_centre_admin_retrains_and_activates(trained: City) -> None:
    assert _post(_client(trained.monitor), "/models/train").status_code == 403
    queued = _post(_client(trained.admin), "/models/train")
    assert queued.status_code == 202 and queued.json()["task_id"]
    # The test settings run tasks at once: the retraining made version 2.
    assert ClassifierVersion.objects.get(version=2).status == ModelStatus.ACTIVE
    assert _post(_client(trained.monitor), "/models/1/activate").status_code == 403
    answer = _post(_client(trained.admin), "/models/1/activate")
    assert answer.status_code == 200 and answer.json()["status"] == "active"
    assert _post(_client(trained.admin), "/models/7/activate").status_code == 404


def test_suggestion_fragment_beside_the_order_form(trained: City) -> None:
    page = _client(trained.agent).get("/triage/suggest/", {"text": "停水两天了", "title": "停水"})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-category="100101"' in html and "市水务局" in html
    assert _client(trained.handler).get("/triage/suggest/", {"text": "停水"}).status_code == 403
    form = _client(trained.agent).get("/orders/new/")
    assert 'hx-get="/triage/suggest/"' in form.content.decode()


def test_models_page_shows_figures_and_buttons_by_role(trained: City) -> None:
    page = _client(trained.admin).get("/triage/models/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "triage-versions" in html and "triage-per-label" in html and "停水" in html
    assert 'action="/triage/models/train/"' in html
    monitor_page = _client(trained.monitor).get("/triage/models/").content.decode()
    assert 'action="/triage/models/train/"' not in monitor_page
    assert _client(trained.agent).get("/triage/models/").status_code == 403
    assert _client(trained.monitor).post("/triage/models/train/").status_code == 403
    answer = _client(trained.admin).post("/triage/models/train/")
    assert answer.status_code == 302 and ClassifierVersion.objects.count() == 2
    assert _client(trained.admin).post("/triage/models/1/activate/").status_code == 302
    assert ClassifierVersion.objects.get(version=1).status == ModelStatus.ACTIVE


def test_an_order_without_a_category_gets_suggestions_on_its_page(trained: City) -> None:
    from tests.orders.helpers import new_order

    order = new_order(trained.agent, text="楼上装修电钻噪音一直不停", category="",
                      citizen_phone="13600000001")
    page = _client(trained.agent).get(f"/orders/{order.number}/").content.decode()
    assert f'hx-get="/triage/orders/{order.number}/suggest/?target=id_dispatch-category"' in page
    fragment = _client(trained.agent).get(f"/triage/orders/{order.number}/suggest/",
                                          {"target": "id_dispatch-category"})
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert 'data-category="100201"' in html and 'data-target="id_dispatch-category"' in html
    hostile = _client(trained.agent).get(f"/triage/orders/{order.number}/suggest/",
                                         {"target": "x');alert(1)//"}).content.decode()
    assert "alert" not in hostile
    # Out of scope: the housing department never had this order.
    assert _client(trained.housing_handler).get(
        f"/triage/orders/{order.number}/suggest/").status_code == 403
    assert _client(trained.agent).get("/triage/orders/99999999/suggest/").status_code == 404


def test_the_navigation_offers_the_classifier_page_to_supervision_only(trained: City) -> None:
    assert 'href="/triage/models/"' in _client(trained.monitor).get("/orders/").content.decode()
    assert 'href="/triage/models/"' not in _client(trained.agent).get("/orders/").content.decode()
