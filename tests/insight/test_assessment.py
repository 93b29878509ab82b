"""Assessment (考核) end to end on the database: orders through the real services in two past
months, the month scored by the worker's function, the stored standings read in each viewer's
scope (pages, API, report registry), appeals submitted and decided (the month re-scored), rules
versions."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

import pytest
from django.test import Client

from hotline.directory.models import Unit
from hotline.insight import assessment
from hotline.insight.appeal_states import AppealState
from hotline.insight.assessment_models import (
    AssessmentAppeal,
    AssessmentFact,
    AssessmentRules,
    AssessmentScore,
)
from hotline.insight.assessment_runs import month_bounds, score_month, score_recent_months
from hotline.insight.reports import ReportQuery, get_report, run_report
from hotline.insight.scoring import DEFAULT_DEFINITION
from hotline.orders.history import verify_order
from hotline.orders.models import Order, OrderEvent
from hotline.orders.services import NewOrder, do_action, do_create_order

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
SEPT = dt.datetime(2026, 9, 14, 9, 30, tzinfo=TZ)  # a Monday
OCT = dt.datetime(2026, 10, 12, 9, 30, tzinfo=TZ)  # a Monday
NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=TZ)


def handled(city: Any, at: dt.datetime, *, sign_after_h: float | None = 1.0,
            resolved: bool | None = True, satisfaction: str = "satisfied",
            handler: Any = None, **fields: Any) -> Order:
    """An order created and dispatched at ``at``, signed ``sign_after_h`` clock hours later,
    replied, approved and called back (when ``resolved`` is not None)."""
    data: dict[str, Any] = dict(type="complaint", channel="phone", title="停水三天",
                                text="小区停水三天", citizen_phone="13812341234",
                                citizen_name="张三", district="gulou", category="100101")
    data.update(fields)
    order, _ = do_create_order(city.agent, NewOrder(**data), now=at)
    do_action(city.agent, order.number, "dispatch", now=at)
    handler = handler or city.handler
    if sign_after_h is None:
        return Order.objects.get(pk=order.pk)
    t = at + dt.timedelta(hours=sign_after_h)
    do_action(handler, order.number, "sign", now=t)
    if resolved is None:
        return Order.objects.get(pk=order.pk)
    do_action(handler, order.number, "reply", {"reply": "已处理"}, now=t + dt.timedelta(hours=1))
    do_action(city.agent, order.number, "approve_reply", now=t + dt.timedelta(hours=2))
    do_action(city.agent, order.number, "callback",
              {"resolved": resolved, "satisfaction": satisfaction},
              now=t + dt.timedelta(hours=3))
    return Order.objects.get(pk=order.pk)


class Months:
    late: Order  # water, October: signed a day and a half late, unresolved, unsatisfied
    basic: Order  # water, October: basically satisfied
    report: Order  # water, October: a 举报 that lowered the response rate
    merged: Order


@pytest.fixture
def months(city: Any) -> Months:
    m = Months()
    env: dict[str, Any] = dict(district="taijiang", category="100201", title="噪声扰民",
                               text="夜间施工噪声")
    # September: water perfect, env poor (signed late).
    for k in range(5):
        handled(city, SEPT + dt.timedelta(hours=k))
        handled(city, SEPT + dt.timedelta(hours=k), sign_after_h=30, handler=city.env_handler,
                resolved=False, satisfaction="unsatisfied", **env)
    # October: env perfect, water mixed.
    for k in range(5):
        handled(city, OCT + dt.timedelta(hours=k), handler=city.env_handler, **env)
    for k in range(3):
        handled(city, OCT + dt.timedelta(hours=k))
    m.basic = handled(city, OCT, satisfaction="basic")
    m.late = handled(city, OCT, sign_after_h=30, resolved=False, satisfaction="unsatisfied")
    m.report = handled(city, OCT, sign_after_h=None, type="report", title="李四举报邻居偷水",
                       text="邻居在小区偷接自来水", citizen_name="李四", citizen_phone="13900001111")
    m.merged = handled(city, OCT, sign_after_h=None)
    do_action(city.agent, m.merged.number, "merge", {"into": m.report.number,
                                                     "reason": "同一事项"},
              now=OCT + dt.timedelta(hours=1))
    score_month("2026-09", now=NOW)
    score_month("2026-10", now=NOW)
    return m


def standing(code: str, month: str = "2026-10") -> AssessmentScore:
    return AssessmentScore.objects.get(month=month, unit__code=code)


# --- the worker's scoring --------------------------------------------------------------------

def test_a_month_is_scored_from_its_orders(months: Months) -> None:
    water = standing("water")
    # 6 counted (the merged order is left out); 4 signed in time (the late one and the 举报
    # never signed in time); 5 called back, 4 resolved; points 3 + 0.8 + 0.
    assert (water.counted, water.responded, water.answered, water.resolved, water.rated,
            water.excluded) == (6, 4, 5, 4, 5, 1)
    assert water.points == pytest.approx(3.8)
    assert water.response_rate == pytest.approx(4 / 6)
    assert water.resolution_rate == pytest.approx(0.8)
    assert water.satisfaction_rate == pytest.approx(0.76)
    assert water.kind == "bureau" and water.group == "departments"
    expected = round(100 * (0.30 * 4 / 6 + 0.35 * 0.8 + 0.35 * 0.76), 2)
    assert water.score == pytest.approx(expected)
    env = standing("env")
    assert env.score == 100.0 and env.rank == 1 and water.rank == 2


def test_the_ranking_carries_the_change_from_last_month(months: Months) -> None:
    assert standing("water", "2026-09").rank == 1 and standing("env", "2026-09").rank == 2
    assert standing("water").rank_change == -1 and standing("env").rank_change == 1
    september = standing("env", "2026-09").score
    assert september is not None
    assert standing("env").score_change == pytest.approx(100.0 - september)


def test_facts_say_which_orders_lowered_the_score_and_why(months: Months) -> None:
    facts = {f.order_id: f for f in AssessmentFact.objects.filter(month="2026-10")}
    assert facts[months.late.pk].lowered == ["response", "resolution", "satisfaction"]
    assert facts[months.late.pk].response_hours == pytest.approx(11.5)  # Mon 9:30 to Tue 15:30: 6.5 + 5 h
    assert facts[months.basic.pk].lowered == ["satisfaction"]
    assert facts[months.report.pk].lowered == ["response"]
    assert facts[months.merged.pk].excluded == "state"


def test_a_call_to_the_citizen_by_the_unit_proves_a_timely_response(city: Any) -> None:
    from hotline.orders.models import Contact

    order = handled(city, OCT, sign_after_h=30)  # signed a working day and a half late
    other = handled(city, OCT, sign_after_h=30)
    call = Contact.objects.create(channel="phone", direction=Contact.Direction.OUTBOUND,
                                  agent=city.handler, occurred_at=OCT + dt.timedelta(hours=1))
    call.orders.add(order)
    # A call by someone outside the unit proves nothing about the unit.
    centre_call = Contact.objects.create(channel="phone", direction=Contact.Direction.OUTBOUND,
                                         agent=city.agent, occurred_at=OCT + dt.timedelta(hours=1))
    centre_call.orders.add(other)
    score_month("2026-10", now=NOW)
    facts = {f.order_id: f for f in AssessmentFact.objects.filter(month="2026-10")}
    assert facts[order.pk].responded is True and facts[order.pk].response_hours == 1.0
    assert facts[other.pk].responded is False and facts[other.pk].response_hours == 11.5


def test_utilities_use_their_own_weights(months: Months) -> None:
    Unit.objects.filter(code="water").update(assessment_kind="utility")
    score_month("2026-10", now=NOW)
    water = standing("water")
    assert water.kind == "utility"
    assert water.score == pytest.approx(round(100 * (0.2 * 4 / 6 + 0.45 * 0.8 + 0.35 * 0.76), 2))


def test_a_street_counts_for_itself_and_its_district(city: Any) -> None:
    noise: dict[str, Any] = dict(category="100201", title="噪声", text="广场舞噪声")  # gulou: the sub-centre
    for k in range(5):
        order = handled(city, OCT + dt.timedelta(hours=k), sign_after_h=None, **noise)
        do_action(city.sub_agent, order.number, "transfer", {"unit": city.street.code},
                  now=OCT + dt.timedelta(hours=k, minutes=10))
        do_action(city.street_handler, order.number, "sign",
                  now=OCT + dt.timedelta(hours=k, minutes=30))
    score_month("2026-10", now=NOW)
    street = standing(city.street.code)
    district = standing(city.subcentre.code)
    assert street.group == "streets:gulou" and district.group == "districts"
    assert street.counted == district.counted == 5 and district.rank == 1
    assert street.kind == district.kind == "district"


def test_a_past_month_is_scored_by_the_rules_then_in_force(months: Months) -> None:
    old = standing("water")
    data = {**DEFAULT_DEFINITION, "satisfaction_points": {
        "satisfied": 1.0, "basic": 1.0, "unsatisfied": 0.0}}
    newer = AssessmentRules.objects.create(effective_from=dt.date(2026, 10, 1), definition=data)
    score_month("2026-09", now=NOW)
    score_month("2026-10", now=NOW)
    assert AssessmentScore.objects.get(month="2026-09", unit__code="water").rules_id != newer.pk
    water = AssessmentScore.objects.get(month="2026-10", unit__code="water", rules=newer)
    assert water.satisfaction_rate == pytest.approx(0.8)  # basic now earns 1.0
    assert water.satisfaction_rate != old.satisfaction_rate
    assert assessment.ranking(months_viewer(), "2026-10").rules == newer


def months_viewer() -> Any:
    from hotline.directory.models import User

    return User.objects.get(username="leo")


def test_the_periodic_job_scores_the_recent_months(city: Any, settings: Any) -> None:
    settings.HOTLINE_ASSESSMENT_RESCORE_MONTHS = 2
    handled(city, dt.datetime(2026, 11, 9, 9, 30, tzinfo=TZ))
    assert score_recent_months(now=NOW) == ["2026-11", "2026-12"]
    assert AssessmentScore.objects.filter(month="2026-11", unit__code="water").exists()


def test_month_bounds_are_in_the_centres_time_zone() -> None:
    start, end = month_bounds("2026-12")
    assert start == dt.datetime(2026, 12, 1, tzinfo=TZ)
    assert end == dt.datetime(2027, 1, 1, tzinfo=TZ)


# --- scope -----------------------------------------------------------------------------------

def codes(viewer: Any, month: str = "2026-10", group: str = "") -> set[str]:
    return {s.unit.code for s in assessment.ranking(viewer, month, group).rows}


def test_each_viewer_sees_the_standings_in_their_scope(city: Any, months: Months) -> None:
    assert codes(city.leader) == {"water", "env"} == codes(city.agent) == codes(city.auditor)
    assert codes(city.handler) == {"water"} == codes(city.dept_admin)
    assert codes(city.env_handler) == {"env"}
    assert codes(city.housing_handler) == set()
    assert codes(city.security_admin) == set()
    assert codes(city.leader, group="districts") == set()


def test_the_unit_page_lists_the_orders_that_lowered_it_without_the_reporter(
        city: Any, months: Months) -> None:
    result = assessment.unit_month(city.handler, "water", "2026-10")
    numbers = {o.number: o for o in result.orders}
    assert set(numbers) == {months.late.number, months.basic.number, months.report.number}
    assert numbers[months.report.number].title == "***举报邻居偷水"  # the reporter redacted
    assert all(o.may_appeal for o in result.orders)
    client = Client()
    client.force_login(city.handler)
    page = client.get("/insight/assessment/units/water/?month=2026-10")
    assert page.status_code == 200
    body = page.content.decode()
    assert months.late.number in body and "李四" not in body and "13900001111" not in body


def test_another_unit_cannot_open_the_page(city: Any, months: Months) -> None:
    client = Client()
    client.force_login(city.env_handler)
    assert client.get("/insight/assessment/units/water/?month=2026-10").status_code == 404
    with pytest.raises(assessment.NotFound):
        assessment.unit_month(city.env_handler, "water", "2026-10")


def test_the_centre_sees_the_reporter_title_in_full(city: Any, months: Months) -> None:
    result = assessment.unit_month(city.admin, "water", "2026-10")
    titles = {o.number: o.title for o in result.orders}
    assert titles[months.report.number] == "李四举报邻居偷水"
    assert not any(o.may_appeal for o in result.orders)  # the centre does not appeal


# --- appeals ---------------------------------------------------------------------------------

def test_an_appeal_accepted_excludes_the_order_and_rescores_the_month(
        city: Any, months: Months, django_capture_on_commit_callbacks: Any) -> None:
    before = standing("water")
    appeal = assessment.do_submit_appeal(city.handler, number=months.late.number,
                                         month="2026-10", reason="停水由市政施工造成")
    assert appeal.state == AppealState.SUBMITTED
    event = OrderEvent.objects.filter(order=months.late).order_by("-seq").first()
    assert event is not None and event.action == "assessment_appeal"
    with pytest.raises(assessment.Conflict):
        assessment.do_submit_appeal(city.dept_admin, number=months.late.number,
                                    month="2026-10", reason="again")
    with django_capture_on_commit_callbacks(execute=True):
        assessment.do_decide_appeal(city.admin, appeal.pk, accept=True, decision="情况属实")
    after = standing("water")
    assert after.counted == before.counted - 1 and after.excluded == before.excluded + 1
    assert after.response_rate == pytest.approx(4 / 5)
    assert after.score is not None and before.score is not None and after.score > before.score
    fact = AssessmentFact.objects.get(month="2026-10", order=months.late)
    assert fact.excluded == "appeal"
    last = OrderEvent.objects.filter(order=months.late).order_by("-seq").first()
    assert last is not None and last.action == "assessment_decision"
    assert last.data["decision"] == "accepted"
    assert verify_order(Order.objects.get(pk=months.late.pk)) == []
    with pytest.raises(assessment.Conflict):
        assessment.do_decide_appeal(city.admin, appeal.pk, accept=False, decision="改判")
    unit = assessment.unit_month(city.handler, "water", "2026-10")
    assert months.late.number not in {o.number for o in unit.orders}
    assert unit.excluded_by_appeal == 1


def test_a_refused_appeal_changes_nothing_and_may_be_followed_by_another(
        city: Any, months: Months, django_capture_on_commit_callbacks: Any) -> None:
    score = standing("water").score
    appeal = assessment.do_submit_appeal(city.handler, number=months.basic.number,
                                         month="2026-10", reason="市民误解")
    with django_capture_on_commit_callbacks(execute=True):
        assessment.do_decide_appeal(city.admin, appeal.pk, accept=False, decision="理由不足")
    assert AssessmentAppeal.objects.get(pk=appeal.pk).state == AppealState.REFUSED
    assert standing("water").score == score
    again = assessment.do_submit_appeal(city.handler, number=months.basic.number,
                                        month="2026-10", reason="补充材料")
    assert again.state == AppealState.SUBMITTED


def test_who_may_appeal_and_decide(city: Any, months: Months) -> None:
    with pytest.raises(assessment.NotFound):  # not the env department's order
        assessment.do_submit_appeal(city.env_handler, number=months.late.number,
                                    month="2026-10", reason="x")
    with pytest.raises(assessment.Forbidden):
        assessment.do_submit_appeal(city.agent, number=months.late.number, month="2026-10",
                                    reason="x")
    with pytest.raises(assessment.InvalidInput):
        assessment.do_submit_appeal(city.handler, number=months.late.number, month="2026-10",
                                    reason="  ")
    env_order = AssessmentFact.objects.filter(month="2026-10", unit__code="env").first()
    assert env_order is not None and env_order.lowered == []
    with pytest.raises(assessment.Conflict):  # it did not lower anything
        assessment.do_submit_appeal(city.env_handler, number=env_order.order.number,
                                    month="2026-10", reason="x")
    appeal = assessment.do_submit_appeal(city.handler, number=months.late.number,
                                         month="2026-10", reason="施工")
    with pytest.raises(assessment.Forbidden):
        assessment.do_decide_appeal(city.monitor, appeal.pk, accept=True, decision="ok")
    with pytest.raises(assessment.NotFound):
        assessment.do_decide_appeal(city.admin, 999999, accept=True, decision="ok")


def test_appeal_and_decision_through_the_pages(city: Any, months: Months, media: Any,
                                               django_capture_on_commit_callbacks: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    handler = Client()
    handler.force_login(city.handler)
    evidence = SimpleUploadedFile("施工公告.txt", "市政施工停水公告".encode(),
                                  content_type="text/plain")
    r = handler.post("/insight/assessment/appeal/", {
        "number": months.late.number, "month": "2026-10", "reason": "市政施工",
        "evidence": evidence})
    assert r.status_code == 302 and "/insight/assessment/units/water/" in r["Location"]
    appeal = AssessmentAppeal.objects.get(order=months.late)
    assert appeal.attachment is not None
    r = handler.post("/insight/assessment/appeal/", {
        "number": months.late.number, "month": "2026-10", "reason": "再次"})
    assert r.status_code == 409
    assert handler.post("/insight/assessment/appeal/", {"number": "x"}).status_code == 400
    admin = Client()
    admin.force_login(city.admin)
    queue = admin.get("/insight/assessment/appeals/")
    assert queue.status_code == 200 and months.late.number in queue.content.decode()
    assert admin.post(f"/insight/assessment/appeals/{appeal.pk}/decide/",
                      {"decision": "maybe", "reason": "x"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        r = admin.post(f"/insight/assessment/appeals/{appeal.pk}/decide/",
                       {"decision": "accept", "reason": "属实"})
    assert r.status_code == 302
    assert AssessmentFact.objects.get(month="2026-10", order=months.late).excluded == "appeal"


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# --- the pages, the API and the report registry ---------------------------------------------

def test_the_ranking_page(city: Any, months: Months) -> None:
    client = Client()
    client.force_login(city.leader)
    r = client.get("/insight/assessment/?month=2026-10")
    body = r.content.decode()
    assert r.status_code == 200
    assert 'id="ranking-departments"' in body and "↑1" in body and "↓1" in body
    assert client.get("/insight/assessment/?month=2026-13").status_code == 422
    assert client.get("/insight/assessment/?month=2099-01").status_code == 422
    assert client.get("/insight/assessment/?group=planets").status_code == 422
    handler = Client()
    handler.force_login(city.handler)
    body = handler.get("/insight/assessment/?month=2026-10").content.decode()
    assert "市水务局" in body and "市生态环境局" not in body and 'id="own-unit"' in body


def test_the_api_gives_the_ranking_in_scope(city: Any, months: Months) -> None:
    leader = Client()
    leader.force_login(city.leader)
    r = leader.get("/api/v1/assessment?month=2026-10&group=departments")
    assert r.status_code == 200
    data = r.json()
    assert data["scope"] == "city" and data["month"] == "2026-10"
    rows = {s["unit"]: s for s in data["standings"]}
    assert rows["env"]["rank"] == 1 and rows["water"]["rank"] == 2
    assert rows["water"]["rank_change"] == -1 and rows["water"]["counted"] == 6
    handler = Client()
    handler.force_login(city.handler)
    mine = handler.get("/api/v1/assessment?month=2026-10").json()
    assert [s["unit"] for s in mine["standings"]] == ["water"] and mine["scope"] == "unit"
    bad = leader.get("/api/v1/assessment?month=October")
    assert bad.status_code == 422 and "YYYY-MM" in bad.json()["detail"]
    refused = Client()
    refused.force_login(city.security_admin)
    assert refused.get("/api/v1/assessment?month=2026-10").status_code == 403


def test_the_report_registry_runs_the_ranking(city: Any, months: Months) -> None:
    report = get_report(city.leader, "assessment-ranking")
    result = run_report(city.leader, report, ReportQuery(dt.date(2026, 10, 1),
                                                         dt.date(2026, 10, 31)))
    assert {row["unit"] for row in result.rows} == {"市水务局", "市生态环境局"}
    mine = run_report(city.handler, get_report(city.handler, "assessment-ranking"),
                      ReportQuery(dt.date(2026, 10, 1), dt.date(2026, 10, 31)))
    assert [row["unit"] for row in mine.rows] == ["市水务局"]


# --- the demo and the admin ------------------------------------------------------------------

def test_the_demo_marks_its_utilities_and_scores_its_months(city: Any) -> None:
    from hotline.demo.assessment import score_demo_months
    from hotline.directory.models import UnitKind

    power = Unit.objects.create(code="power", name="示范供电公司", kind=UnitKind.DEPARTMENT,
                                parent=city.centre)
    now = dt.datetime.now(TZ)
    handled(city, now - dt.timedelta(minutes=30), sign_after_h=0.1, resolved=None)
    said = score_demo_months()
    power.refresh_from_db()
    assert power.assessment_kind == "utility"
    assert said.startswith("assessment scored: ") and said.count("units") == 3
    current = now.strftime("%Y-%m")
    assert AssessmentScore.objects.filter(month=current, unit__code="water").exists()


def test_the_admin_refuses_rules_that_cannot_be_applied(db: None) -> None:
    from hotline.insight.admin import RulesForm

    bad = RulesForm(data={"effective_from": "2027-01-15",
                          "definition": '{"weights": {}}', "note": ""})
    assert not bad.is_valid()
    assert "first day" in str(bad.errors["effective_from"])
    assert "weights" in str(bad.errors["definition"])
    good = RulesForm(data={"effective_from": "2027-01-01", "note": "",
                           "definition": json.dumps(DEFAULT_DEFINITION)})
    assert good.is_valid(), good.errors
