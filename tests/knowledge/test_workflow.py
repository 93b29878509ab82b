"""The editorial workflow: every (state, action) pair, roles and units, versions and history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pytest

from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.knowledge import workflow
from hotline.knowledge.models import Entry, EntryVersion
from hotline.knowledge.services import (
    available_actions,
    do_create_entry,
    do_edit_entry,
    do_entry_action,
    entries_owned_by,
    review_queue,
)
from hotline.knowledge.workflow import EntryAction, EntryState, WorkflowError, next_state
from tests.knowledge.conftest import entry_data, publish

if TYPE_CHECKING:
    from tests.conftest import City

S, A = EntryState, EntryAction

EXPECTED = {
    (S.NEW, A.CREATE): S.DRAFT,
    (S.DRAFT, A.EDIT): S.DRAFT,
    (S.DRAFT, A.SUBMIT): S.SUBMITTED,
    (S.DRAFT, A.RETIRE): S.RETIRED,
    (S.SUBMITTED, A.WITHDRAW): S.DRAFT,
    (S.SUBMITTED, A.PUBLISH): S.PUBLISHED,
    (S.SUBMITTED, A.REJECT): S.DRAFT,
    (S.PUBLISHED, A.REVISE): S.DRAFT,
    (S.PUBLISHED, A.RETIRE): S.RETIRED,
    (S.RETIRED, A.RESTORE): S.DRAFT,
}


@pytest.mark.parametrize("state", list(EntryState))
@pytest.mark.parametrize("action", list(EntryAction))
def test_every_pair(state: EntryState, action: EntryAction) -> None:
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(WorkflowError):
            next_state(state, action)
    else:
        assert next_state(state, action) == expected


def test_unknown_values_raise() -> None:
    with pytest.raises(WorkflowError):
        next_state("bogus", "submit")
    with pytest.raises(WorkflowError):
        next_state("draft", "bogus")


def test_every_action_has_roles() -> None:
    assert set(workflow.ACTION_ROLES) == set(EntryAction)




@pytest.mark.django_db
def test_full_loop_records_versions_and_history(city: City) -> None:
    entry = do_create_entry(city.handler, entry_data())
    assert entry.state == "draft" and entry.owner == city.water
    do_entry_action(city.handler, entry.pk, "submit")
    assert list(review_queue()) == [entry]
    entry = do_entry_action(city.monitor, entry.pk, "reject", note="请补充办理地点")
    assert entry.state == "draft" and entry.review_note == "请补充办理地点"
    do_edit_entry(city.handler, entry.pk, entry_data(body="办理地点：市民服务中心"))
    do_entry_action(city.handler, entry.pk, "submit")
    entry = do_entry_action(city.admin, entry.pk, "publish")
    assert entry.published is not None
    assert entry.state == "published" and entry.published.number == 1
    assert entry.published.author == city.handler and entry.published.published_by == city.admin
    do_entry_action(city.handler, entry.pk, "revise")
    do_edit_entry(city.handler, entry.pk, entry_data(title="停水怎么办（修订）"))
    entry.refresh_from_db()
    assert entry.published is not None
    assert entry.published.title == "停水了怎么办"  # the published text stays until republished
    do_entry_action(city.handler, entry.pk, "submit")
    entry = do_entry_action(city.monitor, entry.pk, "publish")
    assert entry.published is not None
    assert entry.published.number == 2 and entry.published.title == "停水怎么办（修订）"
    assert list(EntryVersion.objects.filter(entry=entry).values_list("number", flat=True)) == [2, 1]
    entry = do_entry_action(city.dept_admin, entry.pk, "retire")
    assert entry.state == "retired" and entry.published is None
    entry = do_entry_action(city.dept_admin, entry.pk, "restore")
    assert entry.state == "draft" and entry.published is None
    steps = [(e.action, e.from_state, e.to_state, e.actor_name) for e in entry.events.all()]
    assert steps[0] == ("create", "new", "draft", "水务承办人")
    assert [s[0] for s in steps] == ["create", "submit", "reject", "edit", "submit", "publish",
                                     "revise", "edit", "submit", "publish", "retire", "restore"]
    assert entry.events.get(action="reject").note == "请补充办理地点"


@pytest.mark.django_db
def test_wrong_state_is_a_conflict(city: City) -> None:
    entry = do_create_entry(city.handler, entry_data())
    with pytest.raises(Conflict):
        do_entry_action(city.monitor, entry.pk, "publish")
    do_entry_action(city.handler, entry.pk, "submit")
    with pytest.raises(Conflict):
        do_edit_entry(city.handler, entry.pk, entry_data(title="改"))
    with pytest.raises(InvalidInput):
        do_entry_action(city.monitor, entry.pk, "reject", note="  ")
    with pytest.raises(InvalidInput):
        do_entry_action(city.monitor, entry.pk, "fly")
    with pytest.raises(NotFound):
        do_entry_action(city.monitor, 999999, "publish")


@pytest.mark.django_db
@pytest.mark.parametrize("who,allowed", [
    ("handler", True), ("dept_admin", True), ("admin", True),
    ("housing_handler", False), ("agent", False), ("monitor", False), ("leader", False),
    ("auditor", False), ("system", False),
])
def test_who_may_draft_water_entries(city: City, who: str, allowed: bool) -> None:
    user = getattr(city, who)
    data = entry_data(owner="water")
    if allowed:
        assert do_create_entry(user, data).owner == city.water
    else:
        with pytest.raises(Forbidden):
            do_create_entry(user, data)


@pytest.mark.django_db
@pytest.mark.parametrize("who,allowed", [
    ("monitor", True), ("admin", True), ("handler", False), ("dept_admin", False),
    ("agent", False), ("leader", False),
])
def test_only_the_centre_publishes(city: City, who: str, allowed: bool) -> None:
    entry = do_create_entry(city.handler, entry_data())
    do_entry_action(city.handler, entry.pk, "submit")
    if allowed:
        assert do_entry_action(getattr(city, who), entry.pk, "publish").state == "published"
    else:
        with pytest.raises(Forbidden):
            do_entry_action(getattr(city, who), entry.pk, "publish")


@pytest.mark.django_db
def test_departments_edit_only_their_own_entries(city: City) -> None:
    entry = do_create_entry(city.handler, entry_data())
    with pytest.raises(Forbidden):
        do_edit_entry(city.housing_handler, entry.pk, entry_data(title="别人的"))
    with pytest.raises(Forbidden):
        do_entry_action(city.housing_handler, entry.pk, "submit")
    with pytest.raises(Forbidden):  # cannot move an entry to a unit it does not write for
        do_edit_entry(city.handler, entry.pk, entry_data(owner="housing"))
    # Retiring is the department administrator's decision, not the handler's.
    published = publish(city)
    with pytest.raises(Forbidden):
        do_entry_action(city.handler, published.pk, "retire")
    assert available_actions(city.handler, published) == [A.REVISE]
    assert set(available_actions(city.dept_admin, published)) == {A.REVISE, A.RETIRE}
    assert available_actions(city.agent, published) == []
    assert set(entries_owned_by(city.handler)) == {entry, published}
    assert set(entries_owned_by(city.housing_handler)) == set()
    assert set(entries_owned_by(city.admin)) == set(Entry.objects.all())


@pytest.mark.django_db
def test_input_is_validated_and_body_sanitised(city: City) -> None:
    for bad, field in [(dict(title=" "), "title"), (dict(body=""), "body"), (dict(kind="x"), "kind"),
                       (dict(categories=["nope"]), "categories"), (dict(owner="nope"), "owner")]:
        with pytest.raises(InvalidInput) as err:
            do_create_entry(city.handler, entry_data(**cast("dict[str, Any]", bad)))
        assert err.value.field == field
    import datetime as dt
    with pytest.raises(InvalidInput):
        do_create_entry(city.handler, entry_data(valid_from=dt.date(2026, 2, 1),
                                                 valid_until=dt.date(2026, 1, 1)))
    entry = do_create_entry(city.handler, entry_data(
        body='<p onclick="x()">办理<script>alert(1)</script><a href="javascript:x">链接</a>'
             '<a href="https://gov.example/">官网</a></p><img src=x onerror=y>'))
    assert entry.body == ('<p>办理<a>链接</a><a href="https://gov.example/" rel="noopener nofollow">'
                          "官网</a></p>")
    plain = do_create_entry(city.handler, entry_data(body="第一段\n第二行\n\n<第二段>"))
    assert plain.body == "<p>第一段<br>第二行</p><p>&lt;第二段&gt;</p>"
    assert list(plain.categories.values_list("code", flat=True)) == ["100101"]
