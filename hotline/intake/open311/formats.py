"""GeoReport v2's two formats from one structure, with no Django: XML (schemaless, no
namespace, ``<?xml version="1.0" encoding="utf-8"?>``) and JSON by the Spark convention (a
collection is a JSON array of its items). Values: str, int, float, bool (``true``/``false``),
None (an empty element, JSON null), a list of dicts (a nested collection, named by
``ITEM_NAMES``) or a list of str (repeated elements)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from xml.sax.saxutils import escape

# The element name of one item of each collection the spec defines.
ITEM_NAMES = {"services": "service", "service_requests": "request", "attributes": "attribute",
              "values": "value", "errors": "error", "endpoints": "endpoint",
              "formats": "format"}


def w3c(moment: dt.datetime | None) -> str | None:
    """A w3c datetime with its offset (the spec requires one): 2010-04-14T06:37:38+08:00."""
    if moment is None:
        return None
    return moment.replace(microsecond=0).isoformat()


def _value_xml(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _element(name: str, value: Any, depth: int) -> str:
    pad = "    " * depth
    if isinstance(value, dict):
        inner = "".join(_element(k, v, depth + 1) for k, v in value.items())
        return f"{pad}<{name}>\n{inner}{pad}</{name}>\n"
    if isinstance(value, list):
        item = ITEM_NAMES.get(name, "item")
        inner = "".join(_element(item, v, depth + 1) for v in value)
        return f"{pad}<{name}>\n{inner}{pad}</{name}>\n" if value else f"{pad}<{name}/>\n"
    text = _value_xml(value)
    return f"{pad}<{name}>{text}</{name}>\n" if text else f"{pad}<{name}/>\n"


def to_xml(root: str, value: Any) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + _element(root, value, 0)).encode()


def to_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def errors(items: list[tuple[int, str]]) -> list[dict[str, Any]]:
    return [{"code": code, "description": description} for code, description in items]
