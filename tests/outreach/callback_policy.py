"""The survey policy the call-back tests run under: the centre has agents call every citizen
back (SurveyPolicy "agent"), so an accepted reply gives an agent's task, not an automated
survey first (the default policy asks by IVR, then SMS, then a person)."""

from __future__ import annotations

import pytest

from hotline.outreach.models import SurveyPolicy


@pytest.fixture(autouse=True)
def agents_call_back(request: pytest.FixtureRequest) -> None:
    transactional = "transactional_db" in request.fixturenames or "live_server" in (
        request.fixturenames)
    request.getfixturevalue("transactional_db" if transactional else "db")
    SurveyPolicy.objects.get_or_create(order_type="", defaults={"methods": "agent"})
