"""search/ is machinery for every domain: it imports only core (and Django), so that the
knowledge base and the orders both build on it without importing each other."""

from __future__ import annotations

import ast
from pathlib import Path

import hotline

PACKAGE = Path(hotline.__file__).parent


def hotline_imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (PACKAGE / package).rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[path.name] = {n for n in names if n.split(".")[0] == "hotline"}
    return found


def test_search_imports_only_core_and_itself() -> None:
    for module, names in hotline_imports("search").items():
        outside = {n for n in names if not n.startswith(("hotline.core", "hotline.search"))}
        assert not outside, (module, outside)


def test_the_shared_core_modules_know_no_domain() -> None:
    for module, names in hotline_imports("core").items():
        if module in {"errors.py", "roles.py", "segmentation.py"}:
            assert all(n.startswith("hotline.core") for n in names), (module, names)
