"""The pure ACD selection: skills, priority, FIFO, sticky routing, longest idle, overflow rules,
positions and expected waits; properties checked by hypothesis over random snapshots."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.contactcentre.acd.routing import (
    NORMAL,
    PRIORITY,
    VULNERABLE_TAGS,
    AgentView,
    Offer,
    OverflowAction,
    OverflowRule,
    QueueRules,
    WaitingCall,
    announced_minutes,
    due_overflows,
    expected_wait_s,
    next_wakeup,
    positions,
    priority_for_tags,
    qualifies,
    select_offers,
    service_order,
)
from hotline.contactcentre.acd.states import AgentState
from hotline.orders.models import CitizenTag

IDLE, BUSY, TALKING = AgentState.IDLE, AgentState.BUSY, AgentState.TALKING
CMN = QueueRules("cmn", required={"cmn": 1})
YUE = QueueRules("yue", required={"yue": 3})
ENT = QueueRules("ent", required={"cmn": 1, "enterprise": 5}, sticky_wait_s=30)
QUEUES = {q.code: q for q in (CMN, YUE, ENT)}


def agent(i: int, idle: float | None = 0.0, state: AgentState = IDLE, **skills: int) -> AgentView:
    return AgentView(i, state, idle, skills or {"cmn": 5})


def call(i: int, queue: str = "cmn", at: float = 0.0, **kw: object) -> WaitingCall:
    return WaitingCall(i, queue, at, **kw)  # type: ignore[arg-type]


def test_vulnerable_tags_are_citizen_tags() -> None:
    assert {t.value for t in CitizenTag} >= VULNERABLE_TAGS
    assert priority_for_tags(["elderly"]) == PRIORITY
    assert priority_for_tags(["disabled", "repeat"]) == PRIORITY
    assert priority_for_tags(["repeat", "care"]) == NORMAL


def test_longest_idle_qualified_agent_wins() -> None:
    agents = [agent(1, 50.0), agent(2, 10.0), agent(3, 5.0, cmn=5, yue=9), agent(4, 1.0, state=BUSY)]
    assert select_offers([call(7)], agents, QUEUES, 100.0) == [Offer(7, 3)]
    assert select_offers([call(7, "yue")], agents, QUEUES, 100.0) == [Offer(7, 3)]
    agents[2] = agent(3, 5.0, cmn=5, yue=2)  # below the queue's minimum level
    assert select_offers([call(7, "yue")], agents, QUEUES, 100.0) == []
    assert select_offers([call(7)], agents, QUEUES, 100.0) == [Offer(7, 3)]


def test_equal_idle_time_goes_to_the_higher_skill_then_lower_id() -> None:
    agents = [agent(1, 10.0, cmn=3), agent(2, 10.0, cmn=8), agent(3, 10.0, cmn=8)]
    assert select_offers([call(1)], agents, QUEUES, 20.0) == [Offer(1, 2)]
    assert select_offers([call(1), call(2, at=1.0)], agents, QUEUES, 20.0) == [
        Offer(1, 2), Offer(2, 3)]


def test_priority_first_then_fifo() -> None:
    calls = [call(1, at=1.0), call(2, at=2.0, priority=PRIORITY), call(3, at=0.5)]
    assert [c.id for c in sorted(calls, key=service_order)] == [2, 3, 1]
    assert select_offers(calls, [agent(9)], QUEUES, 10.0) == [Offer(2, 9)]
    assert positions(calls) == {2: 1, 3: 2, 1: 3}


def test_sticky_caller_waits_for_their_agent_within_the_window() -> None:
    talking = agent(5, None, state=TALKING, cmn=5, enterprise=6)
    free = agent(6, 0.0, cmn=5, enterprise=6)
    c = call(1, "ent", at=100.0, sticky_agent=5)
    assert select_offers([c], [talking, free], QUEUES, 110.0) == []  # waits for agent 5
    assert select_offers([c], [talking, free], QUEUES, 130.0) == [Offer(1, 6)]  # window over
    idle5 = agent(5, 50.0, cmn=5, enterprise=6)
    assert select_offers([c], [idle5, free], QUEUES, 110.0) == [Offer(1, 5)]  # not longest idle
    on_break = agent(5, None, state=BUSY, cmn=5, enterprise=6)
    assert select_offers([c], [on_break, free], QUEUES, 110.0) == [Offer(1, 6)]
    assert select_offers([c], [free], QUEUES, 110.0) == [Offer(1, 6)]  # signed out
    # The waiting sticky caller does not hold up the next caller in line.
    later = call(2, "ent", at=105.0)
    assert select_offers([c, later], [talking, free], QUEUES, 110.0) == [Offer(2, 6)]
    assert next_wakeup([c], QUEUES, 110.0) == 130.0


def test_one_agent_never_gets_two_calls_and_calls_never_go_to_unqualified_agents() -> None:
    agents = [agent(1, 1.0), agent(2, 2.0, yue=5)]
    calls = [call(1, "yue"), call(2, at=1.0), call(3, at=2.0), call(4, "ent")]
    offers = select_offers(calls, agents, QUEUES, 5.0)
    assert offers == [Offer(1, 2), Offer(2, 1)]


def test_overflow_rules_fire_in_order_and_unstaffed_rules_only_when_nobody_is_there() -> None:
    rules = (OverflowRule(0, OverflowAction.CALLBACK, only_unstaffed=True),
             OverflowRule(60, OverflowAction.QUEUE, target_queue="yue"),
             OverflowRule(120, OverflowAction.VOICEMAIL))
    queues = {"cmn": QueueRules("cmn", {"cmn": 1}, overflow=rules), "yue": YUE}
    c = call(1, at=0.0)
    staffed = [agent(1, None, state=TALKING)]
    assert due_overflows([c], staffed, queues, 10.0) == []
    assert [o.rule.action for o in due_overflows([c], [], queues, 10.0)] == ["callback"]
    assert due_overflows([c], staffed, queues, 61.0)[0].rule.target_queue == "yue"
    assert due_overflows([c], staffed, queues, 61.0)[0].step == 1
    assert due_overflows([call(1, overflow_step=2)], staffed, queues, 121.0)[0].step == 2
    assert due_overflows([call(1, overflow_step=3)], staffed, queues, 999.0) == []
    moved = call(1, "cmn", at=0.0, entered_at=100.0, overflow_step=1)
    assert due_overflows([moved], staffed, queues, 150.0) == []  # timers count in this queue
    assert next_wakeup([moved], queues, 150.0) == 160.0


def test_expected_wait_and_announcement() -> None:
    assert expected_wait_s(3, 2, 180.0) == 270.0
    assert expected_wait_s(1, 0, 180.0) is None
    assert announced_minutes(270.0) == 5
    assert announced_minutes(5.0) == 1
    assert announced_minutes(None) is None


# --- properties ----------------------------------------------------------------------------

SKILLS = ("cmn", "yue", "enterprise")
states = st.sampled_from(list(AgentState))
agents_st = st.lists(
    st.builds(lambda s, idle, sk: (s, idle, sk), states,
              st.integers(0, 20).map(float),
              st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), max_size=3)),
    max_size=8,
).map(lambda rows: [AgentView(i, s, idle if s == IDLE else None, sk)
                    for i, (s, idle, sk) in enumerate(rows)])
calls_st = st.lists(
    st.tuples(st.sampled_from(["cmn", "yue", "ent"]), st.integers(0, 30).map(float),
              st.sampled_from([NORMAL, PRIORITY])),
    max_size=12,
).map(lambda rows: [WaitingCall(100 + i, q, at, priority=p) for i, (q, at, p) in enumerate(rows)])


@settings(max_examples=300, deadline=None)
@given(agents_st, calls_st)
def test_offers_are_valid_fifo_and_maximal(agents: list[AgentView],
                                           calls: list[WaitingCall]) -> None:
    offers = select_offers(calls, agents, QUEUES, 50.0)
    by_agent = {a.id: a for a in agents}
    by_call = {c.id: c for c in calls}
    assert len({o.agent for o in offers}) == len(offers)
    assert len({o.call for o in offers}) == len(offers)
    for o in offers:
        assert by_agent[o.agent].state == IDLE
        assert qualifies(by_agent[o.agent], QUEUES[by_call[o.call].queue])
    served = {o.call for o in offers}
    used = {o.agent for o in offers}
    for waiting in (c for c in calls if c.id not in served):
        q = QUEUES[waiting.queue]
        # Maximal: nobody idle and qualified was left over for a call left waiting...
        assert not any(a.state == IDLE and a.id not in used and qualifies(a, q) for a in agents)
        # ...and FIFO within a priority: no later call of the same queue was served before it.
        for o in offers:
            other = by_call[o.call]
            if other.queue == waiting.queue and other.priority == waiting.priority:
                assert service_order(other) < service_order(waiting)


@settings(max_examples=200, deadline=None)
@given(agents_st, calls_st)
def test_the_first_call_gets_the_longest_idle_qualified_agent(agents: list[AgentView],
                                                              calls: list[WaitingCall]) -> None:
    if not calls:
        return
    first = min(calls, key=service_order)
    q = QUEUES[first.queue]
    candidates = [a for a in agents if a.state == IDLE and qualifies(a, q)]
    offers = select_offers(calls, agents, QUEUES, 50.0)
    if not candidates:
        assert all(o.call != first.id for o in offers)
        return
    chosen = next(o.agent for o in offers if o.call == first.id)
    longest = min(a.idle_since or 0.0 for a in candidates)
    chosen_agent = next(a for a in agents if a.id == chosen)
    assert chosen_agent.idle_since == longest


@settings(max_examples=200, deadline=None)
@given(agents_st, calls_st, st.data())
def test_sticky_calls_only_go_to_their_agent_inside_the_window(
        agents: list[AgentView], calls: list[WaitingCall], data: st.DataObject) -> None:
    if not agents or not calls:
        return
    sticky = [WaitingCall(c.id, "ent", c.queued_at, priority=c.priority,
                          sticky_agent=data.draw(st.sampled_from([a.id for a in agents])))
              for c in calls]
    now = data.draw(st.sampled_from([31.0, 70.0]))  # inside / after ENT's 30 s window
    by_agent = {a.id: a for a in agents}
    for offer in select_offers(sticky, agents, QUEUES, now):
        call = next(c for c in sticky if c.id == offer.call)
        preferred = by_agent[call.sticky_agent]  # type: ignore[index]
        waits = (now < call.queued_at + ENT.sticky_wait_s and qualifies(preferred, ENT)
                 and preferred.state in (IDLE, AgentState.RINGING, TALKING, AgentState.WRAP_UP))
        if waits:
            assert offer.agent == preferred.id
