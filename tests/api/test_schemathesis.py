"""Schemathesis drives every documented operation with generated (valid and invalid) requests:
no 500s, and every answer matches the documented status codes and schemas."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from hotline.api.tokens import do_issue_token
from tests.api.conftest import dispatched_order

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())


@pytest.fixture
def keep_test_connection():
    """Django closes "old" connections when a WSGI request starts and ends; inside a test's
    transaction that would close the test's own connection (Django's test client does the same
    as this fixture)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(city, media, keep_test_connection):
    dispatched_order(city)
    _token, secret = do_issue_token(city.monitor)
    return {"Authorization": f"Bearer {secret}"}


@schema.parametrize()
@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_conforms_to_its_schema(case, auth_headers):
    # Schema-valid data may still be refused (422) by the services: unknown district codes,
    # blank titles, a closed order's actions... so "positive data acceptance" does not apply.
    case.call_and_validate(headers=auth_headers, excluded_checks=[positive_data_acceptance])
