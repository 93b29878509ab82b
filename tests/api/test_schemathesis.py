"""Schemathesis drives every documented operation with generated (valid and invalid) requests:
no 500s, and every answer matches the documented status codes and schemas.

Every operation of the OpenAPI document is exercised (all methods, the multipart upload and the
public endpoints included), with a shift monitor's token; the last test checks that the number
of operations tried equals the number in the document (finding 9 of issue 10). The examples
per operation are few, so the whole module stays within about a minute."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from hotline.api.tokens import do_issue_token
from tests.api.conftest import dispatched_order

if TYPE_CHECKING:
    from collections.abc import Iterator

    from schemathesis import Case

    from tests.conftest import City

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
TRIED: set[str] = set()


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """Django closes "old" connections when a WSGI request starts and ends; inside a test's
    transaction that would close the test's own connection (Django's test client does the same
    as this fixture)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(city: City, media: Path, keep_test_connection: None) -> dict[str, str]:
    dispatched_order(city)
    _token, secret = do_issue_token(city.monitor)
    return {"Authorization": f"Bearer {secret}"}


@schema.parametrize()
@settings(max_examples=3, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_conforms_to_its_schema(case: Case, auth_headers: dict[str, str]) -> None:
    # Schema-valid data may still be refused (422) by the services: unknown district codes,
    # blank titles, a closed order's actions... so "positive data acceptance" does not apply.
    # The operation under test (schemathesis also sends methods it does not list, e.g. TRACE).
    TRIED.add(f"{case.operation.method.upper()} {case.operation.path.removeprefix('/api/v1')}")
    response = case.call_and_validate(headers=auth_headers,
                                      excluded_checks=[positive_data_acceptance])
    assert response.status_code < 500, (case.method, case.path, response.text[:500])


def test_every_operation_was_tried(db: None) -> None:
    """Runs after the parametrized test (pytest keeps the order of a module): every operation
    the OpenAPI document lists was called at least once."""
    from django.test import Client

    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    listed = {f"{method.upper()} {path.removeprefix('/api/v1')}" for path, ops in paths.items()
              for method in ops if method in METHODS}
    assert len(listed) > 40, "the OpenAPI document lost its operations"
    assert listed == TRIED, sorted(listed ^ TRIED)
