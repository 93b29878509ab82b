"""GET /api/v1/insight/hot-issues: schema, roles and scope, bad parameters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.api.conftest import ApiClient as _ApiClient

if TYPE_CHECKING:
    from tests.conftest import City
    from tests.insight.conftest import Scenario


class ApiClient(_ApiClient):
    def get(self, path: str, query: dict[str, Any] | None = None,  # type: ignore[override]
            **kwargs: Any) -> Any:
        return self.client.get("/api/v1" + path, query or {}, **kwargs)

PATH = "/insight/hot-issues"


def test_leader_gets_clusters_and_spikes(city: City, scenario: Scenario) -> None:
    response = ApiClient(city.leader).get(PATH, {"days": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["days"] == 1 and body["scope"] == "city" and body["orders"] == 6
    top = body["issues"][0]
    assert top["count"] == 6 and "丽发新城" in top["label"]
    assert top["districts"] == [{"name": "鼓楼区", "count": 6}]
    assert top["spike"]["current"] == 6 and top["spike"]["ratio"] > 2
    assert {s["number"] for s in top["samples"]} <= {o.number for o in scenario.outage}
    assert [(s["category"], s["district"]) for s in body["spikes"]] == [("停水", "鼓楼区")]


def test_default_window_is_seven_days_and_limit_applies(city: City, scenario: Scenario) -> None:
    body = ApiClient(city.agent).get(PATH, {"limit": 1}).json()
    assert body["days"] == 7 and len(body["issues"]) == 1


def test_scope_sub_centre_and_department(city: City, scenario: Scenario) -> None:
    sub = ApiClient(city.sub_agent).get(PATH, {"days": 7}).json()
    assert sub["scope"] == "district" and [i["count"] for i in sub["issues"]] == [6]
    dept = ApiClient(city.dept_admin).get(PATH, {"days": 7}).json()
    assert dept["scope"] == "unit" and dept["orders"] == 3


def test_district_filter_and_date_range(city: City, scenario: Scenario) -> None:
    body = ApiClient(city.leader).get(PATH, {"days": 7, "district": "taijiang"}).json()
    assert [i["count"] for i in body["issues"]] == [2]
    today = scenario.now.date().isoformat()
    ranged = ApiClient(city.leader).get(PATH, {"date_from": today, "date_to": today})
    assert ranged.status_code == 200 and ranged.json()["days"] == 1


@pytest.mark.parametrize("query,field", [
    ({"days": 5}, "days"),
    ({"days": "x"}, "days"),
    ({"limit": 0}, "limit"),
    ({"district": "nowhere"}, "district"),
    ({"category": "999"}, "category"),
    ({"date_from": "2026-01-01"}, "date_to"),
    ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "date_to"),
    ({"date_from": "yesterday", "date_to": "2026-01-01"}, "date_from"),
])
def test_bad_parameters_are_422_naming_the_field(city: City, query: dict[str, Any], field: str) -> None:
    response = ApiClient(city.leader).get(PATH, query)
    assert response.status_code == 422
    assert response.json()["field"] == field and response.json()["detail"]


@pytest.mark.parametrize("who", ["handler", "street_handler", "system"])
def test_other_roles_get_403(city: City, who: str) -> None:
    response = ApiClient(getattr(city, who)).get(PATH)
    assert response.status_code == 403 and "detail" in response.json()


def test_unauthenticated_is_401(db: None) -> None:
    assert ApiClient().get(PATH).status_code == 401


def test_in_the_openapi_schema(db: None) -> None:
    schema = ApiClient().get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/insight/hot-issues"]["get"]
    params = {p["name"] for p in operation["parameters"]}
    assert {"days", "date_from", "date_to", "district", "category", "limit"} <= params
    assert "HotIssuesOut" in schema["components"]["schemas"]
