"""The IVR flow engine without sockets: events in, actions out, on the default flow."""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from hotline.contactcentre.ivr_outcome import VisitOutcome
from hotline.orders import numbering
from hotline.voice.ivr.engine import (
    Action,
    CallerHungUp,
    CallService,
    Digit,
    FlowRun,
    HangUp,
    Play,
    RecordingDone,
    ServiceDone,
    StartRecording,
    StopRecording,
    Timeout,
    Transfer,
    Wait,
)
from hotline.voice.ivr.flow import DEFAULT_FLOW, Flow, FlowError, Say, SayDigits, build_flow, load_flow
from hotline.voice.services import SERVICES


@pytest.fixture(scope="module")
def flow() -> Flow:
    return load_flow(DEFAULT_FLOW, services=SERVICES)


def of(actions: list[Action], kind: type[Any]) -> list[Any]:
    return [a for a in actions if isinstance(a, kind)]


def said(actions: list[Action]) -> str:
    return " ".join(s.text if isinstance(s, Say) else getattr(s, "variable", "")
                    for play in of(actions, Play) for s in play.segments)


def valid_number() -> str:
    payload = "1234567"
    return payload + str(numbering.damm_digit(payload))


def press(run: FlowRun, keys: str) -> list[Action]:
    actions = []
    for key in keys:
        actions += run.handle(Digit(key))
    return actions


def test_welcome_then_one_is_a_transfer_to_a_person(flow: Flow) -> None:
    run = FlowRun(flow, {"caller": "13800138000"})
    first = run.start()
    assert "示范市政府热线为您服务" in said(first)
    assert of(first, Wait)
    actions = run.handle(Digit("1"))
    assert of(actions, Transfer) == [Transfer("human", "human")]
    assert run.finished and run.visits == ["welcome", "human"]


def test_zero_at_any_menu_reaches_a_person(flow: Flow) -> None:
    run = FlowRun(flow)
    run.start()
    run.handle(Digit("2"))
    assert run.node is not None
    assert run.node.name == "self_service"
    assert of(run.handle(Digit("0")), Transfer)


def test_direct_to_agent_skips_the_menus(flow: Flow) -> None:
    run = FlowRun(flow, direct_to_agent=True)
    assert of(run.start(), Transfer) and run.visits == ["human"]


def test_silence_reprompts_three_times_then_asks_for_a_call_back(flow: Flow) -> None:
    run = FlowRun(flow)
    wait = of(run.start(), Wait)[0]
    again = run.handle(Timeout(wait.token))
    assert "您没有输入" in said(again) and "示范市" in said(again)
    assert run.handle(Timeout(wait.token)) == []  # stale: ignored
    again = run.handle(Timeout(of(again, Wait)[0].token))
    last = run.handle(Timeout(of(again, Wait)[0].token))
    assert of(last, CallService)[0].name == "callback"
    done = run.handle(ServiceDone(of(last, CallService)[0].token, {"outcome": "ok"}))
    assert of(done, HangUp) and run.visits[-2:] == ["callback", "callback_done"]


def test_wrong_keys_count_as_retries(flow: Flow) -> None:
    run = FlowRun(flow)
    run.start()
    assert "输入有误" in said(run.handle(Digit("7")))
    run.handle(Digit("#"))
    assert of(run.handle(Digit("9")), CallService)[0].name == "callback"


def test_complaint_record_confirm_create_and_speak_the_number(flow: Flow) -> None:
    run = FlowRun(flow, {"caller": "13800138000"})
    run.start()
    press(run, "2")
    actions = run.handle(Digit("2"))
    assert "被投诉单位" in said(actions)
    (start,) = of(actions, StartRecording)
    assert run.handle(Digit("5")) == []  # only # ends a recording
    assert run.handle(Digit("#")) == [StopRecording(start.token)]
    confirm = run.handle(RecordingDone(start.token, "/tmp/x.wav", 4.2))
    assert "确认请按1，录音重放请按2，取消请按3" in said(confirm)
    replay = run.handle(Digit("2"))
    assert of(replay, Play)[0].segments[0].variable == "/tmp/x.wav"
    (service,) = of(run.handle(Digit("1")), CallService)
    assert service.name == "create_order"
    assert service.args == {"type": "complaint", "recording": "/tmp/x.wav", "seconds": "4.2"}
    spoken = run.handle(ServiceDone(service.token, {"outcome": "ok", "number": "12345678"}))
    digits = [s for p in of(spoken, Play) for s in p.segments if isinstance(s, SayDigits)]
    assert digits == [SayDigits("12345678"), SayDigits("12345678")]
    assert of(spoken, HangUp)


def test_cancelled_recording_goes_back_to_the_menu(flow: Flow) -> None:
    run = FlowRun(flow)
    run.start()
    start = of(press(run, "21"), StartRecording)[0]
    run.handle(RecordingDone(start.token, "/tmp/y.wav", 1.0))
    run.handle(Digit("3"))
    assert run.node is not None
    assert run.node.name == "self_service" and "recording" not in run.variables


def test_status_query_checks_the_check_digit_and_reads_back(flow: Flow) -> None:
    run = FlowRun(flow, {"caller": "13800138000"})
    run.start()
    press(run, "23")
    good = valid_number()
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    again = press(run, bad)
    assert run.node is not None
    assert "受理号有误" in said(again) and run.node.name == "query_enter"
    readback = press(run, good)
    assert run.node is not None
    assert run.node.name == "query_confirm"
    assert SayDigits(good) in of(readback, Play)[0].segments
    (lookup,) = of(run.handle(Digit("1")), CallService)
    assert lookup.args == {"number": good}
    status = run.handle(ServiceDone(lookup.token, {"outcome": "found", "state": "handling",
                                                   "department": "市水务局"}))
    assert "您的诉求正在办理，承办单位市水务局" in said(status)
    assert run.node is not None
    assert run.node.name == "query_more"


def test_status_query_not_found_and_re_enter(flow: Flow) -> None:
    run = FlowRun(flow)
    run.start()
    press(run, "23" + valid_number())
    run.handle(Digit("2"))
    assert run.node is not None
    assert run.node.name == "query_enter"
    press(run, valid_number())
    (lookup,) = of(run.handle(Digit("1")), CallService)
    run.handle(ServiceDone(lookup.token, {"outcome": "not_found"}))
    assert "query_not_found" in run.visits


def test_consultation_lists_entries_reads_one_and_offers_sms(flow: Flow) -> None:
    run = FlowRun(flow, {"caller": "13800138000"})
    run.start()
    (load,) = of(press(run, "24"), CallService)
    entries = [{"title": "停水怎么办", "text": "请拨打供水热线。"},
               {"title": "噪声", "text": "夜间施工须审批。"}]
    menu = run.handle(ServiceDone(load.token, {"outcome": "ok", "entries": entries}))
    assert "停水怎么办请按1" in said(menu) and "噪声请按2" in said(menu)
    read = run.handle(Digit("2"))
    assert "夜间施工须审批" in said(read)
    (sms,) = of(run.handle(Digit("1")), CallService)
    assert sms.name == "send_sms" and sms.args["text"] == "夜间施工须审批。"


def test_consultation_with_no_entries_goes_back(flow: Flow) -> None:
    run = FlowRun(flow)
    run.start()
    (load,) = of(press(run, "24"), CallService)
    run.handle(ServiceDone(load.token, {"outcome": "empty", "entries": []}))
    assert run.visits[-2:] == ["consult_empty", "self_service"]


def test_poll_stores_the_key(flow: Flow) -> None:
    run = FlowRun(flow)
    run.start()
    (save,) = of(press(run, "253"), CallService)
    assert save.name == "poll_answer" and save.args == {"question": "satisfaction", "answer": "3"}


def test_service_error_falls_back(flow: Flow) -> None:
    run = FlowRun(flow)
    run.start()
    (save,) = of(press(run, "253"), CallService)
    run.handle(ServiceDone(save.token, {"outcome": "error"}))
    assert run.node is not None
    assert run.node.name == "callback"


def test_hang_up_during_a_recording_stops_it(flow: Flow) -> None:
    run = FlowRun(flow)
    run.start()
    start = of(press(run, "22"), StartRecording)[0]
    assert run.handle(CallerHungUp()) == [StopRecording(start.token)]
    assert run.finished and run.handle(Digit("1")) == []


# --- validation -------------------------------------------------------------------------

def minimal(**nodes: Any) -> dict[str, Any]:
    return {"start": "a", "operator": "a", "nodes": nodes}


def problems(raw: Any, services: Iterable[str] | None = None) -> str:
    with pytest.raises(FlowError) as caught:
        build_flow(raw, services=services)
    return "\n".join(caught.value.problems)


def test_validation_names_every_problem() -> None:
    raw = minimal(
        a={"type": "menu", "prompt": "x", "choices": {"1": "nowhere", "12": "a", "x": "a"}},
        b={"type": "play", "prompt": "y"},
        c={"type": "teleport"},
        d={"type": "record", "prompt": "z"},
        e={"type": "service", "call": "launch", "next": "a"},
        f={"type": "menu", "prompt": "x", "choices": {"1": "a"}, "colour": "red"},
    )
    text = problems(raw, services={"create_order"})
    for expected in ("node 'a': unknown node 'nowhere'", "bad key '12'", "bad key 'x'",
                     "node 'b': needs 'next'", "unknown type 'teleport'", "needs 'var'",
                     "needs 'cancel'", "unknown service 'launch'", "unknown fields colour"):
        assert expected in text


def test_a_loop_without_input_is_refused() -> None:
    raw = minimal(a={"type": "menu", "prompt": "x", "choices": {"1": "p"}},
                  p={"type": "play", "prompt": "x", "next": "q"},
                  q={"type": "service", "call": "callback", "next": "p"})
    assert "a loop without input" in problems(raw)


def test_a_loop_through_a_menu_is_fine() -> None:
    raw = minimal(a={"type": "menu", "prompt": "x", "choices": {"1": "p"}},
                  p={"type": "play", "prompt": "x", "next": "a"})
    assert build_flow(raw).nodes["p"].next == "a"


def test_missing_start_and_bad_templates() -> None:
    text = problems({"nodes": {"a": {"type": "play", "prompt": "{oops", "next": "a"}}})
    assert "needs 'start'" in text and "bad {variable}" in text


def test_json_flows_load_too(tmp_path: Path) -> None:
    path = tmp_path / "flow.json"
    path.write_text('{"start": "a", "operator": "a", "nodes": {"a": {"type": "hangup"}}}')
    assert load_flow(path).start == "a"
    path.write_text("{")
    with pytest.raises(FlowError, match="not valid json"):
        load_flow(path)


class Clock:
    """A hand-moved clock for the visits' times."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def steps(run: FlowRun) -> list[tuple[str, str, int, VisitOutcome | None, float, float | None]]:
    return [(v.node, v.digits, v.retries, v.outcome, v.entered, v.left) for v in run.path]


def test_the_path_records_keys_retries_outcomes_and_times(flow: Flow) -> None:
    clock = Clock()
    run = FlowRun(flow, clock=clock)
    wait = of(run.start(), Wait)[0]
    clock.now = 1004.0
    again = run.handle(Timeout(wait.token))  # silence: a retry at welcome
    clock.now = 1006.0
    run.handle(Digit("7"))  # a wrong key: a second retry
    clock.now = 1007.5
    run.handle(Digit("2"))  # the self-service menu
    clock.now = 1010.0
    assert of(run.handle(Digit("0")), Transfer)  # 0: a person
    assert of(again, Wait)
    assert steps(run) == [
        ("welcome", "72", 2, VisitOutcome.CHOSEN, 1000.0, 1007.5),
        ("self_service", "0", 0, VisitOutcome.OPERATOR, 1007.5, 1010.0),
        ("human", "", 0, VisitOutcome.TRANSFERRED, 1010.0, 1010.0),
    ]
    assert [v.node for v in run.path] == run.visits


def test_the_path_of_a_caller_who_gives_up_and_of_one_who_hangs_up(flow: Flow) -> None:
    clock = Clock()
    run = FlowRun(flow, clock=clock)
    actions = run.start()
    for _ in range(3):
        actions = run.handle(Timeout(of(actions, Wait)[0].token))
    service = of(actions, CallService)[0]
    clock.now = 1012.0
    run.handle(ServiceDone(service.token, {"outcome": "ok"}))
    assert [(v.node, v.retries, v.outcome) for v in run.path] == [
        ("welcome", 3, VisitOutcome.GAVE_UP), ("callback", 0, VisitOutcome.SERVICE),
        ("callback_done", 0, VisitOutcome.ENDED)]

    run = FlowRun(flow, clock=clock)
    run.start()
    run.handle(Digit("2"))
    clock.now = 1020.0
    run.handle(CallerHungUp())
    assert [(v.node, v.outcome, v.left) for v in run.path] == [
        ("welcome", VisitOutcome.CHOSEN, 1012.0),
        ("self_service", VisitOutcome.CALLER_HUNG_UP, 1020.0)]


def test_a_recording_confirmed_or_discarded(flow: Flow) -> None:
    run = FlowRun(flow, {"caller": "13800138000"})
    run.start()
    start = of(press(run, "22"), StartRecording)[0]
    assert run.node is not None
    recording = run.node.name
    run.handle(Digit("#"))
    run.handle(RecordingDone(start.token, "/tmp/x.wav", 4.2))
    run.handle(Digit("1"))
    (visit,) = [v for v in run.path if v.node == recording]
    assert (visit.digits, visit.outcome) == ("#1", VisitOutcome.RECORDED)

    run = FlowRun(flow)
    run.start()
    start = of(press(run, "21"), StartRecording)[0]
    assert run.node is not None
    recording = run.node.name
    run.handle(RecordingDone(start.token, "/tmp/y.wav", 1.0))
    run.handle(Digit("3"))
    (visit,) = [v for v in run.path if v.node == recording]
    assert (visit.digits, visit.outcome) == ("3", VisitOutcome.CANCELLED)
    assert run.path[-1].node == "self_service" and run.path[-1].outcome is None
