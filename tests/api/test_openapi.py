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
