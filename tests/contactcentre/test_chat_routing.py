"""Chats through the ACD, pure: capacity, skills, order of service, agents not ready."""

from __future__ import annotations

from hotline.contactcentre.acd.chats import ChatAgent, position_in_queue, select_chat_offers
from hotline.contactcentre.acd.routing import AgentView, Offer, QueueRules, WaitingCall
from hotline.contactcentre.acd.states import AgentState

QUEUES = {"q": QueueRules("q"), "biz": QueueRules("biz", required={"biz": 3})}


def agent(pk: int, state: AgentState = AgentState.IDLE, open_chats: int = 0,
          idle_since: float | None = 0.0, **skills: int) -> ChatAgent:
    return ChatAgent(AgentView(pk, state, idle_since, skills), open_chats)


def chat(pk: int, queue: str = "q", at: float = 0.0, priority: int = 0) -> WaitingCall:
    return WaitingCall(pk, queue, at, priority=priority)


def test_an_agent_holds_up_to_capacity_and_the_least_loaded_goes_first() -> None:
    chats = [chat(i, at=float(i)) for i in range(1, 7)]
    offers = select_chat_offers(chats, [agent(1, open_chats=1), agent(2)], QUEUES, capacity=3)
    # 1 has one chat already: 2 goes first; on a tie the lower id. Chat 6 waits: both are full.
    assert offers == [Offer(1, 2), Offer(2, 1), Offer(3, 2), Offer(4, 1), Offer(5, 2)]


def test_agents_on_a_call_take_chats_but_not_on_a_break_or_not_ready() -> None:
    agents = [agent(1, AgentState.BUSY), agent(2, AgentState.SIGNED_IN),
              agent(3, AgentState.TALKING), agent(4, AgentState.SIGNED_OUT)]
    assert select_chat_offers([chat(1), chat(2)], agents, QUEUES, capacity=3) == [
        Offer(1, 3), Offer(2, 3)]


def test_skills_and_priority_decide_as_for_calls() -> None:
    chats = [chat(1, "biz", at=1.0), chat(2, "q", at=2.0, priority=1), chat(3, "biz", at=0.5)]
    agents = [agent(1, biz=2), agent(2, biz=5)]
    offers = select_chat_offers(chats, agents, QUEUES, capacity=1)
    # The vulnerable citizen's chat first: its queue needs no skill, so the tie goes to the
    # lower id, which keeps the skilled agent free; then the earliest biz chat to the only
    # qualified agent. The last biz chat waits: agent 2 is full, agent 1 not qualified.
    assert offers == [Offer(2, 1), Offer(3, 2)]
    assert select_chat_offers(chats, agents, QUEUES, capacity=2) == [
        Offer(2, 1), Offer(3, 2), Offer(1, 2)]


def test_the_position_counts_only_the_same_queue_ahead() -> None:
    chats = [chat(1, at=1.0), chat(2, "biz", at=0.0), chat(3, at=2.0), chat(4, at=3.0, priority=1)]
    assert position_in_queue(4, chats) == 1
    assert position_in_queue(3, chats) == 3
    assert position_in_queue(2, chats) == 1
    assert position_in_queue(9, chats) == 0
