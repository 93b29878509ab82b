"""The IVR flow engine, sans-I/O: caller events in, actions for the gateway out.

One `FlowRun` per call. The gateway feeds it `Digit`, `Timeout`, `RecordingDone`,
`ServiceDone` and `CallerHungUp` and carries out the actions it returns, in order:
`Play` queues audio at once; `Wait`, `StartRecording`, `Transfer` and `HangUp` take effect
when the queued audio has been played (a timeout counts from the end of the prompt);
`StopPlaying` drops queued audio (barge-in). `Wait`, `StartRecording` and `CallService`
carry a token: an answer with an older token is stale and ignored, so the gateway never
has to cancel timers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hotline.contactcentre.ivr_outcome import VisitOutcome
from hotline.orders import numbering
from hotline.voice.ivr.flow import (
    Flow,
    Node,
    PlayRecording,
    Prompt,
    Say,
    SayDigits,
    Segment,
    Tone,
)

# --- what the gateway tells the engine ------------------------------------------------------


@dataclass(frozen=True)
class Digit:
    key: str


@dataclass(frozen=True)
class Timeout:
    token: int


@dataclass(frozen=True)
class RecordingDone:
    token: int
    path: str
    seconds: float


@dataclass(frozen=True)
class ServiceDone:
    token: int
    result: Mapping[str, Any]  # "outcome" picks the branch; the rest become variables


@dataclass(frozen=True)
class CallerHungUp:
    pass


Event = Digit | Timeout | RecordingDone | ServiceDone | CallerHungUp

# --- what the engine asks of the gateway ----------------------------------------------------


@dataclass(frozen=True)
class Play:
    """Resolved segments: Say with its final text, SayDigits with the digits themselves,
    PlayRecording with the file's path."""

    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class StopPlaying:
    pass


@dataclass(frozen=True)
class Wait:
    seconds: float
    token: int


@dataclass(frozen=True)
class StartRecording:
    token: int
    max_seconds: float


@dataclass(frozen=True)
class StopRecording:
    token: int


@dataclass(frozen=True)
class CallService:
    name: str
    args: Mapping[str, str]
    token: int


@dataclass(frozen=True)
class Transfer:
    """The flow ends here: the caller is to reach `target` (the ACD's business)."""

    target: str
    node: str


@dataclass(frozen=True)
class HangUp:
    pass


Action = Play | StopPlaying | Wait | StartRecording | StopRecording | CallService | Transfer | HangUp


@dataclass
class NodeVisit:
    """One stay at one node: when (the run's clock), the keys pressed there, the retries and
    how it ended. ``left`` and ``outcome`` stay empty while the caller is still there."""

    node: str
    entered: float
    digits: str = ""
    retries: int = 0
    outcome: VisitOutcome | None = None
    left: float | None = None

    def close(self, outcome: VisitOutcome, now: float) -> None:
        if self.outcome is None:
            self.outcome, self.left = outcome, now


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass
class FlowRun:
    flow: Flow
    variables: dict[str, Any] = field(default_factory=dict)
    direct_to_agent: bool = False
    visits: list[str] = field(default_factory=list)
    trail: list[tuple[str, str]] = field(default_factory=list)  # ("visit"|"retry", detail)
    path: list[NodeVisit] = field(default_factory=list)  # the visits as data (IvrVisit rows)
    clock: Callable[[], float] = time.time  # stamps the visits; injected by tests
    finished: bool = False
    node: Node | None = None
    _mode: str = ""  # "input", "recording", "confirm", "service", ""
    _token: int = 0
    _tries: int = 0
    _buffer: str = ""

    # --- entry points -------------------------------------------------------------------

    def start(self) -> list[Action]:
        return self._enter(self.flow.operator if self.direct_to_agent else self.flow.start)

    def goto(self, name: str) -> list[Action]:
        """Continue at node ``name`` (also after a transfer ended the flow: a queue that
        overflows to the mailbox sends the caller back here)."""
        if name not in self.flow.nodes:
            raise KeyError(f"no node {name!r} in the flow")
        self.finished = False
        return self._enter(name)

    def handle(self, event: Event) -> list[Action]:
        if self.finished or self.node is None:
            return []
        if isinstance(event, CallerHungUp):
            self._leave(VisitOutcome.CALLER_HUNG_UP)
            self.finished = True
            return [StopRecording(self._token)] if self._mode == "recording" else []
        if isinstance(event, Timeout):
            if event.token != self._token or self._mode not in ("input", "confirm"):
                return []
            return self._on_timeout()
        if isinstance(event, RecordingDone):
            if event.token != self._token or self._mode != "recording":
                return []
            return self._on_recorded(event)
        if isinstance(event, ServiceDone):
            if event.token != self._token or self._mode != "service":
                return []
            return self._on_service(event.result)
        return self._on_digit(event.key)

    # --- moving between nodes -------------------------------------------------------------

    def _next_token(self) -> int:
        self._token += 1
        return self._token

    def _leave(self, outcome: VisitOutcome) -> None:
        if self.path:
            self.path[-1].close(outcome, self.clock())

    def _enter(self, name: str, outcome: VisitOutcome = VisitOutcome.PASSED) -> list[Action]:
        """Leave the current node (``outcome`` says how) and enter ``name``."""
        actions: list[Action] = []
        # Non-waiting nodes chain without recursion; the loader refused loops among them.
        while True:
            self._leave(outcome)
            outcome = VisitOutcome.PASSED
            node = self.flow.nodes[name]
            self.node, self._tries, self._buffer, self._mode = node, 0, "", ""
            self.visits.append(name)
            self.trail.append(("visit", name))
            self.path.append(NodeVisit(name, self.clock()))
            if node.type == "play":
                actions.append(self._play(node.prompt))
                name = node.next or self.flow.fallback
                continue
            if node.type in ("transfer", "hangup"):
                if node.prompt:
                    actions.append(self._play(node.prompt))
                actions.append(Transfer(node.target, node.name) if node.type == "transfer"
                               else HangUp())
                self._leave(VisitOutcome.TRANSFERRED if node.type == "transfer"
                            else VisitOutcome.ENDED)
                self.finished = True
                return actions
            if node.type == "service":
                self._mode = "service"
                args = {key: self._format(value) for key, value in node.args.items()}
                actions.append(CallService(node.call, args, self._next_token()))
                return actions
            if node.type == "record":
                self._mode = "recording"  # from the beep on; "#" during the prompt is harmless
                actions.append(self._play((*node.prompt, Tone("beep"))))
                actions.append(StartRecording(self._next_token(), node.max_seconds))
                return actions
            if node.type == "list_menu" and not self._items(node):
                name = node.empty or self.flow.fallback
                continue
            self._mode = "input"
            actions.extend(self._prompt_and_wait(node))
            return actions

    def _items(self, node: Node) -> list[Mapping[str, Any]]:
        items = self.variables.get(node.items) or []
        return list(items)[:9]

    def _menu_prompt(self, node: Node) -> Prompt:
        if node.type != "list_menu":
            return node.prompt
        listed = tuple(
            Say(node.item_prompt.format_map(_Missing(title=item.get("title", ""), index=i)))
            for i, item in enumerate(self._items(node), start=1)
        )
        return (*node.prompt, *listed)

    def _prompt_and_wait(self, node: Node, before: Prompt = ()) -> list[Action]:
        prompt = (*before, *self._menu_prompt(node))
        return [self._play(prompt), Wait(node.timeout, self._next_token())]

    def _retry(self, reason: str) -> list[Action]:
        """A wrong key or silence: say so and ask again, or give up to the fallback."""
        assert self.node is not None
        node = self.node
        self._tries += 1
        self._buffer = ""
        self.trail.append(("retry", f"{node.name}:{reason}"))
        if self.path:
            self.path[-1].retries += 1
        if self._tries >= node.retries:
            return [StopPlaying(), *self._enter(self.flow.fallback, VisitOutcome.GAVE_UP)]
        if reason == "invalid" and node.invalid_prompt:
            before = node.invalid_prompt
        else:
            before = self.flow.text(reason)
        if self._mode == "confirm":
            return [StopPlaying(), self._play((*before, *node.confirm_prompt)),
                    Wait(node.timeout, self._next_token())]
        return [StopPlaying(), *self._prompt_and_wait(node, before)]

    # --- events ---------------------------------------------------------------------------

    def _on_timeout(self) -> list[Action]:
        node = self.node
        assert node is not None
        if node.type == "collect" and self._buffer and node.digits == 0:
            return self._collected()  # "until #" and the caller stopped typing
        return self._retry("no_input")

    def _on_digit(self, key: str) -> list[Action]:
        node = self.node
        assert node is not None
        if self.path and self.path[-1].outcome is None:
            self.path[-1].digits += key
        if self._mode == "recording":
            if key == node.terminator or key == "#":
                return [StopRecording(self._token)]
            return []
        if self._mode == "confirm":
            return self._on_confirm(key)
        if self._mode != "input":
            return []  # during a service call or a recording's prompt keys mean nothing
        if node.type == "collect":
            return self._on_collect_digit(key)
        if key in node.choices:
            if node.var:
                self.variables[node.var] = key
            return [StopPlaying(), *self._enter(node.choices[key], VisitOutcome.CHOSEN)]
        if key == "0":
            return [StopPlaying(), *self._enter(self.flow.operator, VisitOutcome.OPERATOR)]
        if node.type == "list_menu" and key.isdigit():
            items = self._items(node)
            index = int(key)
            if 1 <= index <= len(items):
                self.variables[node.var] = dict(items[index - 1])
                return [StopPlaying(), *self._enter(node.next or self.flow.fallback,
                                                    VisitOutcome.CHOSEN)]
        return self._retry("invalid")

    def _on_collect_digit(self, key: str) -> list[Action]:
        node = self.node
        assert node is not None
        stop: list[Action] = [StopPlaying()] if not self._buffer else []
        if key == "*":
            self._buffer = ""  # start again
            return [*stop, Wait(node.timeout, self._next_token())]
        if key == node.terminator and node.digits == 0:
            return [*stop, *self._collected()] if self._buffer else self._retry("invalid")
        if not key.isdigit():
            return self._retry("invalid")
        self._buffer += key
        if len(self._buffer) >= (node.digits or node.max_digits):
            return [*stop, *self._collected()]
        return [*stop, Wait(node.timeout, self._next_token())]

    def _collected(self) -> list[Action]:
        node = self.node
        assert node is not None
        value = self._buffer
        if node.digits and len(value) != node.digits:
            return self._retry("invalid")
        if node.check == "acceptance_number" and not numbering.is_valid(value):
            return self._retry("invalid")
        self.variables[node.var] = value
        return self._enter(node.next or self.flow.fallback, VisitOutcome.COLLECTED)

    def _on_recorded(self, event: RecordingDone) -> list[Action]:
        node = self.node
        assert node is not None
        self.variables[node.var] = event.path
        self.variables[f"{node.var}_seconds"] = round(event.seconds, 1)
        self._mode = "confirm"
        return [self._play(node.confirm_prompt), Wait(node.timeout, self._next_token())]

    def _on_confirm(self, key: str) -> list[Action]:
        node = self.node
        assert node is not None
        if key == "1":
            return [StopPlaying(), *self._enter(node.next or self.flow.fallback,
                                                VisitOutcome.RECORDED)]
        if key == "2":
            replay = self._play((PlayRecording(node.var), *node.confirm_prompt))
            return [StopPlaying(), replay, Wait(node.timeout, self._next_token())]
        if key == "3":
            self.variables.pop(node.var, None)
            return [StopPlaying(), *self._enter(node.cancel or self.flow.fallback,
                                                VisitOutcome.CANCELLED)]
        if key == "0":
            return [StopPlaying(), *self._enter(self.flow.operator, VisitOutcome.OPERATOR)]
        return self._retry("invalid")

    def _on_service(self, result: Mapping[str, Any]) -> list[Action]:
        node = self.node
        assert node is not None
        outcome = str(result.get("outcome", "ok"))
        for key, value in result.items():
            if key == "outcome":
                continue
            self.variables[key] = value
            label = self.flow.labels.get(key, {}).get(str(value))
            if label is not None:
                self.variables[f"{key}_label"] = label
        if outcome in node.outcomes:
            return self._enter(node.outcomes[outcome], VisitOutcome.SERVICE)
        if outcome == "error" or node.next is None:
            return self._enter(self.flow.fallback, VisitOutcome.SERVICE)
        return self._enter(node.next, VisitOutcome.SERVICE)

    # --- prompts --------------------------------------------------------------------------

    def _format(self, template: str) -> str:
        try:
            return template.format_map(_Missing(self.variables))
        except (KeyError, IndexError, AttributeError, ValueError, TypeError):
            return template

    def _play(self, prompt: Prompt) -> Play:
        resolved: list[Segment] = []
        for segment in prompt:
            if isinstance(segment, Say):
                resolved.append(Say(self._format(segment.text)))
            elif isinstance(segment, SayDigits):
                resolved.append(SayDigits(str(self.variables.get(segment.variable, ""))))
            elif isinstance(segment, PlayRecording):
                resolved.append(PlayRecording(str(self.variables.get(segment.variable, ""))))
            else:
                resolved.append(segment)
        return Play(tuple(resolved))
