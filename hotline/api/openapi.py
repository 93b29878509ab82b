"""The API object: django-ninja's NinjaAPI, plus the error answers every operation can give
written into the OpenAPI document (routers elsewhere in the project need not list them), and
each operation's access rule (``x-roles`` / ``x-public``, see ``hotline.api.rules``)."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from hotline.api.rules import openapi_fields
from hotline.api.schemas import ErrorOut
from hotline.core.rules import Rule, rule_of

_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
_DESCRIPTIONS = {
    "400": "Bad Request: the body is not JSON",
    "401": "Unauthorized",
    "403": "Forbidden: the caller's role may not use this endpoint (see `x-roles`)",
    "404": "Not Found",
    "413": "Payload Too Large",
    "422": "Unprocessable Entity: a parameter is invalid (see `field`)",
}


def _error_codes(operation: dict[str, Any], path: str) -> list[str]:
    codes = ["422"]
    if operation.get("security"):
        codes.append("401")
    if operation.get("x-roles"):
        codes.append("403")
    if "{" in path:
        codes.append("404")
    if "requestBody" in operation:
        codes += ["400", "413"]
    return codes


class HotlineAPI(NinjaAPI):
    def operation_rules(self) -> dict[str, Rule | None]:
        """Each bound operation's rule, by its OpenAPI operation id."""
        found: dict[str, Rule | None] = {}
        for bound in self._get_bound_routers():
            for path_view in bound.path_operations.values():
                for operation in path_view.operations:
                    op_id = operation.operation_id or self.get_openapi_operation_id(operation)
                    found[op_id] = rule_of(operation.view_func)
        return found

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorOut", ErrorOut.model_json_schema())
        rules = self.operation_rules()
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                operation.update(openapi_fields(rules.get(operation.get("operationId", ""))))
                responses = operation.setdefault("responses", {})
                for code in _error_codes(operation, path):
                    responses.setdefault(code, {
                        "description": _DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": _ERROR_REF}},
                    })
        return schema
