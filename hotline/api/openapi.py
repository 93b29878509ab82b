"""The API object: django-ninja's NinjaAPI, plus the error answers every operation can give
written into the OpenAPI document (routers elsewhere in the project need not list them)."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from hotline.api.schemas import ErrorOut

_ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
_DESCRIPTIONS = {
    "400": "Bad Request: the body is not JSON",
    "401": "Unauthorized",
    "404": "Not Found",
    "413": "Payload Too Large",
    "422": "Unprocessable Entity: a parameter is invalid (see `field`)",
}


def _error_codes(operation: dict[str, Any], path: str) -> list[str]:
    codes = ["422"]
    if operation.get("security"):
        codes.append("401")
    if "{" in path:
        codes.append("404")
    if "requestBody" in operation:
        codes += ["400", "413"]
    return codes


class HotlineAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("ErrorOut", ErrorOut.model_json_schema())
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for code in _error_codes(operation, path):
                    responses.setdefault(code, {
                        "description": _DESCRIPTIONS[code],
                        "content": {"application/json": {"schema": _ERROR_REF}},
                    })
        return schema
