"""The OpenAPI document is valid JSON, OpenAPI 3, and lists the contract paths."""

from __future__ import annotations

from django.test import Client

from hotline.api.action_params import ACTION_PARAMS

CONTRACT = {
    ("post", "/api/v1/orders"),
    ("get", "/api/v1/orders"),
    ("get", "/api/v1/orders/{number}"),
    ("post", "/api/v1/orders/{number}/attachments"),
    ("get", "/api/v1/orders/{number}/attachments/{attachment_id}"),
    ("get", "/api/v1/public/orders/{number}"),
    ("get", "/api/v1/categories"),
    ("get", "/api/v1/units"),
    ("get", "/api/v1/districts"),
}


def test_openapi_lists_the_contract(db: None) -> None:
    r = Client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"] == "1"
    listed = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    expected = CONTRACT | {("post", f"/api/v1/orders/{{number}}/{a.value}") for a in ACTION_PARAMS}
    assert expected <= listed, expected - listed
    schemes = doc["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} >= {"http", "apiKey"}
    # Every $ref points at a defined schema.
    defined = set(doc["components"]["schemas"])
    refs = _refs(doc)
    assert refs and {ref.rsplit("/", 1)[-1] for ref in refs} <= defined
    public = doc["paths"]["/api/v1/public/orders/{number}"]["get"]
    assert "security" not in public or public["security"] == []
    create = doc["paths"]["/api/v1/orders"]["post"]
    assert {"200", "201", "409", "422"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_docs_page(db: None) -> None:
    r = Client().get("/api/v1/docs")
    assert r.status_code == 200
    assert b"openapi.json" in r.content


# Operation ids clients call: the knowledge, triage and insight routers moved from their domains
# into hotline/api/ and kept the ids django-ninja had derived from the old modules.
KEPT_OPERATION_IDS = {
    ("get", "/api/v1/knowledge/search"): "hotline_knowledge_api_search",
    ("get", "/api/v1/knowledge/entries/{entry_id}"): "hotline_knowledge_api_entry_detail",
    ("get", "/api/v1/knowledge/suggest"): "hotline_knowledge_api_suggest",
    ("get", "/api/v1/knowledge/orders/search"): "hotline_knowledge_api_orders_search",
    ("post", "/api/v1/triage/suggest"): "hotline_triage_api_suggest",
    ("get", "/api/v1/triage/models"): "hotline_triage_api_models",
    ("post", "/api/v1/triage/models/train"): "hotline_triage_api_train",
    ("post", "/api/v1/triage/models/{version}/activate"): "hotline_triage_api_activate",
    ("get", "/api/v1/insight/hot-issues"): "hotline_insight_api_hot_issues_endpoint",
}


def test_moved_operations_keep_their_operation_ids(db: None) -> None:
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    found = {(method, path): paths[path][method]["operationId"]
             for method, path in KEPT_OPERATION_IDS if method in paths.get(path, {})}
    assert found == KEPT_OPERATION_IDS
    # The operations' rules are still looked up by id (x-roles / x-public in the document).
    assert all("x-roles" in paths[path][method] or paths[path][method].get("x-public")
               for method, path in KEPT_OPERATION_IDS)
