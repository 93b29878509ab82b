"""Quality inspection (质检): the scoring rules alone, the weekly sampling (idempotent, by
kind), scoring and appeals with who may do what, the pages with the recording player, and
the QA report."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from hotline.contactcentre.models import CallOutcome, CallRecording, Queue, QueuedCall
from hotline.core.errors import Forbidden, InvalidInput, NotFound
from hotline.insight import quality
from hotline.insight import quality_scoring as qs
from hotline.insight.quality_models import Inspection, SamplingRule, Scorecard, ScorecardItem
from hotline.insight.reports import ReportQuery, get_report, run_report
from hotline.orders.models import AccessKind, AccessLog, Channel, Contact

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
WEEK = dt.date(2026, 11, 23)  # a Monday
ITEMS = [qs.Item("greeting", 10), qs.Item("answer", 30), qs.Item("polite", 0, fatal=True)]


# --- the rules alone ------------------------------------------------------------------------

def test_score_is_points_earned_out_of_possible() -> None:
    result = qs.score(ITEMS, {"greeting": 10, "answer": 20, "polite": True})
    assert (result.total, result.earned, result.possible, result.fatal_failed) == (
        75.0, 30, 40, ())


def test_a_failed_fatal_item_zeroes_the_score() -> None:
    result = qs.score(ITEMS, {"greeting": 10, "answer": 30, "polite": False})
    assert result.total == 0.0 and result.fatal_failed == ("polite",)


@pytest.mark.parametrize("marks", [
    {"greeting": 10, "answer": 30},  # an item not marked
    {"greeting": 11, "answer": 30, "polite": True},  # over the item's points
    {"greeting": 10, "answer": 30, "polite": 1},  # a fatal item given points
    {"greeting": 10, "answer": 30, "polite": True, "extra": 1},  # not on the card
])
def test_incomplete_or_wrong_marks_are_refused(marks: dict[str, Any]) -> None:
    with pytest.raises(qs.ScoringError):
        qs.score(ITEMS, marks)


def test_sampling_is_random_but_repeatable() -> None:
    ids = list(range(100))
    first = qs.sample(ids, 5, "1:2:2026-11-23")
    assert first == qs.sample(list(reversed(ids)), 5, "1:2:2026-11-23") and len(first) == 5
    assert first != qs.sample(ids, 5, "1:2:2026-11-30")
    assert qs.sample([3, 4], 5, "x") == [3, 4] and qs.sample(ids, 0, "x") == []


@pytest.mark.parametrize(("state", "step", "after"), [
    (qs.State.PENDING, qs.Step.SCORE, qs.State.SCORED),
    (qs.State.SCORED, qs.Step.APPEAL, qs.State.APPEALED),
    (qs.State.APPEALED, qs.Step.UPHOLD, qs.State.UPHELD),
    (qs.State.APPEALED, qs.Step.REVISE, qs.State.REVISED),
])
def test_each_allowed_step(state: qs.State, step: qs.Step, after: qs.State) -> None:
    assert qs.apply(state, step) == after


def test_every_other_pair_is_refused() -> None:
    allowed = {(s, st) for s, steps in qs.TRANSITIONS.items() for st in steps}
    for state in qs.State:
        for step in qs.Step:
            if (state, step) not in allowed:
                with pytest.raises(qs.TransitionError):
                    qs.apply(state, step)


# --- with the database -----------------------------------------------------------------------

@pytest.fixture
def qa(city: Any) -> Any:
    city.queue = Queue.objects.create(code="qa", name="综合")
    city.card = Scorecard.objects.create(name="通话质检")
    city.greeting = ScorecardItem.objects.create(scorecard=city.card, label="开场白", points=10)
    city.answer = ScorecardItem.objects.create(scorecard=city.card, label="答复准确", points=30,
                                               position=1)
    city.polite = ScorecardItem.objects.create(scorecard=city.card, label="服务态度",
                                               fatal=True, points=0, position=2)
    city.rule = SamplingRule.objects.create(name="每周随机", kind=SamplingRule.Kind.RANDOM,
                                            per_agent_per_week=2, scorecard=city.card)
    return city


def a_call(qa: Any, agent: Any, day: int = 24, talk_s: int = 120, recorded: bool = True,
           caller: str = "13912345678") -> QueuedCall:
    answered = dt.datetime(2026, 11, day, 10, 0, tzinfo=TZ)
    contact = Contact.objects.create(channel=Channel.PHONE, occurred_at=answered,
                                     summary="来电")
    call = QueuedCall.objects.create(
        call_ref=f"c{QueuedCall.objects.count()}", queue=qa.queue, caller=caller,
        outcome=CallOutcome.COMPLETED, queued_at=answered, entered_at=answered,
        answered_at=answered, ended_at=answered + dt.timedelta(seconds=talk_s), agent=agent,
        contact=contact)
    if recorded:
        rec = CallRecording(contact=contact, call=call, seconds=talk_s, size=8, sha256="0" * 64,
                            created_at=answered)
        rec.file.save("qa.wav", ContentFile(b"RIFFdata"), save=False)
        rec.save()
    return call


def marks(qa: Any, greeting: int = 10, answer: int = 30, polite: bool = True) -> dict[str, Any]:
    return {qa.greeting.key: greeting, qa.answer.key: answer, qa.polite.key: polite}


@pytest.mark.django_db
def test_sampling_takes_recorded_calls_per_agent_once(qa: Any) -> None:
    for day in (23, 24, 25):
        a_call(qa, qa.agent, day)
    a_call(qa, qa.agent, 26, recorded=False)
    a_call(qa, qa.sub_agent, 24)
    a_call(qa, qa.agent, 30)  # next week
    assert quality.do_sample_week(WEEK) == 3  # two of alice's three recorded, sam's one
    assert quality.do_sample_week(WEEK) == 0  # the same calls again: nothing new
    assert Inspection.objects.filter(agent=qa.agent).count() == 2
    assert not Inspection.objects.filter(call__answered_at__gte=dt.datetime(
        2026, 11, 30, tzinfo=TZ)).exists()


@pytest.mark.django_db
def test_targeted_rules_pick_long_calls_only(qa: Any) -> None:
    long_rule = SamplingRule.objects.create(name="长通话", kind=SamplingRule.Kind.LONG,
                                            per_agent_per_week=5, long_call_seconds=600,
                                            scorecard=Scorecard.objects.create(name="长通话卡"))
    short = a_call(qa, qa.agent, talk_s=60)
    long = a_call(qa, qa.agent, talk_s=900)
    qa.rule.is_active = False
    qa.rule.save()
    quality.do_sample_week(WEEK)
    assert list(Inspection.objects.filter(rule=long_rule).values_list("call_id", flat=True)) == [
        long.pk]
    assert not Inspection.objects.filter(call=short).exists()


@pytest.mark.django_db
def test_scoring_appeal_and_decision_follow_the_rules(qa: Any) -> None:
    ins = quality.do_inspect_call(qa.monitor, a_call(qa, qa.agent).pk, qa.card.pk)
    with pytest.raises(Forbidden):
        quality.do_score(qa.agent, ins.pk, marks(qa))  # an agent is no inspector
    with pytest.raises(InvalidInput):
        quality.do_score(qa.monitor, ins.pk, {qa.greeting.key: 10})  # half filled in
    quality.do_score(qa.monitor, ins.pk, marks(qa, answer=15), "答复不完整")
    ins.refresh_from_db()
    assert (ins.state, ins.score, ins.inspector) == (Inspection.State.SCORED, 62.5, qa.monitor)
    with pytest.raises(NotFound):
        quality.do_appeal(qa.sub_agent, ins.pk, "不是我的")  # not sam's call
    with pytest.raises(InvalidInput):
        quality.do_appeal(qa.agent, ins.pk, "  ")
    quality.do_appeal(qa.agent, ins.pk, "政策已更新，答复是对的")
    with pytest.raises(Forbidden):  # the inspector who scored may not decide
        quality.do_decide_appeal(qa.monitor, ins.pk, accept=True, decision="ok",
                                 marks=marks(qa))
    quality.do_decide_appeal(qa.admin, ins.pk, accept=True, decision="申诉成立",
                             marks=marks(qa))
    ins.refresh_from_db()
    assert (ins.state, ins.score, ins.decided_by) == (Inspection.State.REVISED, 100.0,
                                                      qa.admin)
    with pytest.raises(InvalidInput):
        quality.do_appeal(qa.agent, ins.pk, "again")


@pytest.mark.django_db
def test_nobody_inspects_their_own_call(qa: Any) -> None:
    ins = quality.do_inspect_call(qa.admin, a_call(qa, qa.monitor).pk, qa.card.pk)
    with pytest.raises(Forbidden):
        quality.do_score(qa.monitor, ins.pk, marks(qa))


@pytest.mark.django_db
def test_the_pages_score_play_appeal_and_report(qa: Any) -> None:
    call = a_call(qa, qa.agent)
    ins = quality.do_inspect_call(qa.monitor, call.pk, qa.card.pk)
    monitor, agent, other = Client(), Client(), Client()
    monitor.force_login(qa.monitor)
    agent.force_login(qa.agent)
    other.force_login(qa.sub_agent)
    page = monitor.get(reverse("quality:detail", args=[ins.pk])).content.decode()
    assert "开场白" in page and reverse("quality:recording", args=[ins.pk]) in page
    assert "13912345678" not in page  # the caller's number masked
    played = monitor.get(reverse("quality:recording", args=[ins.pk]))
    assert played.status_code == 200 and b"".join(played.streaming_content) == b"RIFFdata"  # type: ignore[attr-defined]
    assert AccessLog.objects.filter(kind=AccessKind.RECORDING_PLAY, user=qa.monitor).exists()
    form = {f"item-{qa.greeting.pk}": "10", f"item-{qa.answer.pk}": "30",
            f"item-{qa.polite.pk}": "fail", "comment": "态度生硬"}
    assert monitor.post(reverse("quality:score", args=[ins.pk]), form).status_code == 302
    ins.refresh_from_db()
    assert ins.score == 0.0 and ins.fatal_failed
    # The agent sees the score and appeals; another agent does not see the inspection at all.
    assert "态度生硬" in agent.get(reverse("quality:detail", args=[ins.pk])).content.decode()
    assert other.get(reverse("quality:detail", args=[ins.pk])).status_code == 404
    assert other.get(reverse("quality:recording", args=[ins.pk])).status_code == 404
    bad = agent.post(reverse("quality:appeal", args=[ins.pk]), {"reason": ""})
    assert bad.status_code == 422
    assert agent.post(reverse("quality:appeal", args=[ins.pk]),
                      {"reason": "客户先辱骂"}).status_code == 302
    assert monitor.get(reverse("quality:list")).status_code == 200
    assert other.get(reverse("quality:list")).status_code == 200
    assert "客户先辱骂" not in other.get(reverse("quality:list")).content.decode()
    # The QA figures: as a page and as the standard report.
    figures = monitor.get(reverse("quality:figures"), {"from": "2026-11-23", "to": "2026-11-29"})
    assert "王坐席" in figures.content.decode()
    assert monitor.get(reverse("quality:figures"), {"from": "x"}).status_code == 400
    report = get_report(qa.monitor, "qa-by-agent")
    result = run_report(qa.monitor, report, ReportQuery(WEEK, dt.date(2026, 11, 29)))
    assert [(r["agent"], r["inspected"], r["fatal"], r["appeals"]) for r in result.rows] == [
        ("王坐席", 1, 1, 1)]
    with pytest.raises(Forbidden):
        get_report(qa.handler, "qa-by-agent")
