"""The call statistics page and the big screen's pages: who may open them, what they show,
bad input answered with 400."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.test import Client

from tests.contactcentre.conftest import at

pytestmark = pytest.mark.django_db
DAY = "2026-03-02"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_centre_sees_the_days_figures_charts_and_timelines(rolled: Any) -> None:
    with time_machine.travel(at(600), tick=False):
        page = client_for(rolled.admin).get("/insight/calls/", {"day": DAY})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="calls-offered">4<' in html
    assert 'data-testid="calls-connection">66.7%<' in html
    assert "综合" in html and "王坐席" in html
    assert 'bar-chart' in html and 'class="timeline"' in html
    assert 'data-testid="agent-occupancy">58.6%<' in html


def test_an_agent_sees_only_their_own_day(rolled: Any) -> None:
    with time_machine.travel(at(600), tick=False):
        own = client_for(rolled.agent).get("/insight/calls/", {"day": DAY}).content.decode()
        other = client_for(rolled.bob).get("/insight/calls/", {"day": DAY})
    assert 'data-testid="calls-offered">2<' in own  # the two calls she answered
    assert 'id="ivr-nodes"' not in own and 'class="bar-chart"' not in own
    assert other.status_code == 200
    assert 'data-testid="calls-offered">0<' in other.content.decode()
    assert "王坐席" not in other.content.decode()


@pytest.mark.parametrize("day", ["yesterday", "2026-13-01", "2999-01-01"])
def test_a_bad_day_is_a_400_with_the_form(rolled: Any, day: str) -> None:
    with time_machine.travel(at(600), tick=False):
        page = client_for(rolled.admin).get("/insight/calls/", {"day": day})
    assert page.status_code == 400
    assert 'name="day"' in page.content.decode()


def test_departments_and_auditors_may_not_open_call_statistics(city: Any) -> None:
    for user in (city.handler, city.dept_admin, city.auditor):
        assert client_for(user).get("/insight/calls/").status_code == 403
    for user in (city.agent, city.handler):
        assert client_for(user).get("/insight/screen/").status_code == 403
        assert client_for(user).get("/insight/screen/figures/").status_code == 403


def test_the_big_screen_shows_todays_figures_and_the_map(rolled: Any) -> None:
    with time_machine.travel(at(600), tick=False):
        page = client_for(rolled.monitor).get("/insight/screen/")
        figures = client_for(rolled.leader).get("/insight/screen/figures/").json()
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="screen-offered">4<' in html
    assert 'data-district="gulou"' in html and "鼓楼区" in html
    assert figures["calls"]["offered"] == 4 and figures["calls"]["answered"] == 2
    assert figures["calls"]["connection_rate"] == "66.7"
    assert {d["code"] for d in figures["districts"]} == {"gulou", "taijiang"}
