""""Not what I need" (不是我要的) on a suggestion: who may say it, what is stored, who sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from hotline.knowledge.models import SuggestionFeedback
from hotline.knowledge.services import do_entry_action
from tests.knowledge.conftest import publish

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.test import Client

    from hotline.directory.models import User
    from tests.conftest import City

pytestmark = pytest.mark.django_db


def url(entry_id: int) -> str:
    return reverse("knowledge:not_helpful", args=[entry_id])


def test_the_desk_marks_a_suggestion_and_the_row_is_kept_masked(
        city: City, login: Callable[[User], Client]) -> None:
    entry = publish(city)
    response = login(city.agent).post(url(entry.pk), {"text": "我家停电了 电话13800138000"})
    assert response.status_code == 201
    assert "kb-feedback-done" in response.content.decode()
    row = SuggestionFeedback.objects.get()
    assert (row.entry_id, row.user, row.user_name) == (entry.pk, city.agent, "王坐席")
    assert row.query == "我家停电了 电话138****8000"
    assert row.created_at is not None
    for user in (city.monitor, city.admin):
        assert login(user).post(url(entry.pk), {"text": "停电"}).status_code == 201
    assert SuggestionFeedback.objects.count() == 3


@pytest.mark.parametrize("who", ["handler", "dept_admin", "leader", "auditor", "security_admin",
                                 "audit_admin", "street_handler"])
def test_roles_off_the_desk_may_not(city: City, login: Callable[[User], Client], who: str) -> None:
    entry = publish(city)
    response = login(getattr(city, who)).post(url(entry.pk), {"text": "停电"})
    assert response.status_code == 403
    assert not SuggestionFeedback.objects.exists()


def test_anonymous_is_sent_to_log_in(city: City, client: Client) -> None:
    entry = publish(city)
    response = client.post(url(entry.pk), {"text": "停电"})
    assert response.status_code == 302
    assert "login" in response["Location"]
    assert not SuggestionFeedback.objects.exists()


def test_bad_input_is_a_4xx_with_a_message(city: City, login: Callable[[User], Client]) -> None:
    entry = publish(city)
    agent = login(city.agent)
    assert agent.get(url(entry.pk)).status_code == 405
    empty = agent.post(url(entry.pk), {"text": "   "})
    assert empty.status_code == 422
    assert "typed" in empty.content.decode()
    assert agent.post(url(entry.pk), {"text": "停" * 2001}).status_code == 422
    assert agent.post(url(entry.pk + 1000), {"text": "停电"}).status_code == 404
    do_entry_action(city.dept_admin, entry.pk, "retire")
    assert agent.post(url(entry.pk), {"text": "停电"}).status_code == 404
    assert not SuggestionFeedback.objects.exists()


def test_editors_see_the_marks_on_the_entry_page(city: City,
                                                 login: Callable[[User], Client]) -> None:
    entry = publish(city)
    login(city.agent).post(url(entry.pk), {"text": "小区没有电了"})
    page = reverse("knowledge:entry", args=[entry.pk])
    for editor in (city.handler, city.monitor):  # the owning unit's author, the centre's reviewer
        body = login(editor).get(page).content.decode()
        assert 'data-testid="kb-feedback"' in body
        assert "小区没有电了" in body
    # An agent reads the entry but is not its editor; another department neither.
    for other in (city.agent, city.housing_handler):
        body = login(other).get(page).content.decode()
        assert "小区没有电了" not in body


def test_the_suggestions_carry_the_button_for_the_desk_only(
        city: City, login: Callable[[User], Client]) -> None:
    publish(city)
    suggest = reverse("knowledge:suggest")
    body = login(city.agent).get(suggest, {"text": "小区停水了"}).content.decode()
    assert 'data-testid="kb-not-helpful"' in body
    assert 'hx-params="text"' in body and "&quot;小区停水了&quot;" in body
    body = login(city.handler).get(suggest, {"text": "小区停水了"}).content.decode()
    assert "了怎么办" in body  # the title, highlighted
    assert 'data-testid="kb-not-helpful"' not in body
