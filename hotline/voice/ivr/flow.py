"""The IVR call flow as data: loaded from YAML or JSON, validated once, then immutable.

A flow is a graph of named nodes. Nodes that wait for the caller (menu, collect, record,
list_menu) may form loops; nodes that do not (play, service) may not loop among
themselves, or a call would spin without ever listening. Every problem found at load is
reported at once, each message naming the node, so the centre can fix a file in one go.

Prompts are a string or a list of segments:
    "text with {variable}"          spoken by TTS; {name} takes a call variable
    {digits: variable}              a number read digit by digit (an acceptance number)
    {tone: beep}                    a generated tone (before a recording)
    {recording: variable}           a file recorded earlier in the call (replay)
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

NODE_TYPES = frozenset(
    {"menu", "play", "collect", "record", "service", "list_menu", "transfer", "hangup"}
)
WAITING_TYPES = frozenset({"menu", "collect", "record", "list_menu"})  # listen to the caller
KEYS = frozenset("0123456789*#")
TONES = frozenset({"beep"})
CHECKS = frozenset({"", "acceptance_number"})
DEFAULT_TIMEOUT = 6.0
DEFAULT_RETRIES = 3
DEFAULT_FLOW = Path(__file__).with_name("default_flow.yaml")


class FlowError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid IVR flow:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Say:
    text: str  # a str.format template over the call's variables


@dataclass(frozen=True)
class SayDigits:
    variable: str


@dataclass(frozen=True)
class Tone:
    name: str


@dataclass(frozen=True)
class PlayRecording:
    variable: str


Segment = Say | SayDigits | Tone | PlayRecording
Prompt = tuple[Segment, ...]


@dataclass(frozen=True)
class Node:
    name: str
    type: str
    prompt: Prompt = ()
    next: str | None = None
    choices: Mapping[str, str] = field(default_factory=dict)  # menu, list_menu: key -> node
    var: str = ""  # where the input (digit, digits, recording, chosen item) is stored
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    digits: int = 0  # collect: exactly this many, or 0 = until the terminator
    max_digits: int = 20
    terminator: str = "#"
    check: str = ""  # collect: "acceptance_number" verifies the check digit
    invalid_prompt: Prompt = ()
    max_seconds: float = 120.0  # record
    confirm_prompt: Prompt = ()  # record: 1 confirm, 2 replay, 3 cancel
    cancel: str | None = None  # record: where 3 goes
    call: str = ""  # service name
    args: Mapping[str, str] = field(default_factory=dict)  # service: templates
    outcomes: Mapping[str, str] = field(default_factory=dict)  # service: outcome -> node
    items: str = ""  # list_menu: the variable holding the list of {title, text}
    item_prompt: str = "{title}请按{index}"
    empty: str | None = None  # list_menu: where an empty list goes
    target: str = ""  # transfer: a queue, an agent or a number (the ACD decides)

    def successors(self) -> list[str]:
        found = [self.next, self.cancel, self.empty, *self.choices.values(),
                 *self.outcomes.values()]
        return [name for name in found if name]


@dataclass(frozen=True)
class Flow:
    name: str
    start: str
    operator: str  # where 0 at a menu goes, and the direct-to-agent start (GB/T 33358)
    fallback: str  # after too many timeouts or wrong keys: a person or a call-back request
    nodes: Mapping[str, Node]
    texts: Mapping[str, str]  # shared phrases: invalid, no_input, hold, no_agent ...
    labels: Mapping[str, Mapping[str, str]]  # service result value -> spoken label

    def text(self, key: str) -> Prompt:
        phrase = self.texts.get(key, "")
        return (Say(phrase),) if phrase else ()

    def static_texts(self) -> set[str]:
        """Every fixed phrase of the flow, to synthesise before the first call."""
        found = {text for text in self.texts.values() if text and "{" not in text}
        for node in self.nodes.values():
            for prompt in (node.prompt, node.invalid_prompt, node.confirm_prompt):
                found.update(s.text for s in prompt if isinstance(s, Say) and "{" not in s.text)
        return found


# --- loading --------------------------------------------------------------------------------

def load_flow(path: str | Path, *, services: Iterable[str] | None = None) -> Flow:
    """Read a flow file (.yaml, .yml or .json); raises FlowError with every problem found."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise FlowError([f"{path.name}: not valid {path.suffix[1:] or 'YAML'}: {exc}"]) from exc
    return build_flow(raw, services=services)


def build_flow(raw: Any, *, services: Iterable[str] | None = None) -> Flow:
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise FlowError(["the flow must be a mapping with 'start' and 'nodes'"])
    raw_nodes = raw.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise FlowError(["'nodes' must be a non-empty mapping of node name to node"])
    defaults = {
        "timeout": _number(raw.get("timeout", DEFAULT_TIMEOUT), "flow 'timeout'", problems),
        "retries": int(_number(raw.get("retries", DEFAULT_RETRIES), "flow 'retries'", problems)),
    }
    nodes: dict[str, Node] = {}
    for name, body in raw_nodes.items():
        node = _build_node(str(name), body, defaults, problems)
        if node is not None:
            nodes[node.name] = node
    texts = raw.get("texts") or {}
    labels = raw.get("labels") or {}
    if not isinstance(texts, dict) or not all(isinstance(v, str) for v in texts.values()):
        problems.append("'texts' must map names to strings")
        texts = {}
    if not isinstance(labels, dict) or not all(isinstance(v, dict) for v in labels.values()):
        problems.append("'labels' must map result names to {value: spoken label}")
        labels = {}
    flow = Flow(
        name=str(raw.get("name", "ivr")),
        start=str(raw.get("start", "")),
        operator=str(raw.get("operator", "")),
        fallback=str(raw.get("fallback", raw.get("operator", ""))),
        nodes=nodes,
        texts={str(k): v for k, v in texts.items()},
        labels={str(k): {str(a): str(b) for a, b in v.items()} for k, v in labels.items()},
    )
    _check_graph(flow, raw_nodes, set(services) if services is not None else None, problems)
    if problems:
        raise FlowError(problems)
    return flow


def _number(value: Any, what: str, problems: list[str]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        problems.append(f"{what} must be a positive number, not {value!r}")
        return 1.0
    return float(value)


def _prompt(value: Any, where: str, problems: list[str]) -> Prompt:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    segments: list[Segment] = []
    for item in items:
        if isinstance(item, str):
            _check_template(item, where, problems)
            segments.append(Say(item))
        elif isinstance(item, dict) and len(item) == 1:
            ((kind, arg),) = item.items()
            if kind == "digits" and isinstance(arg, str):
                segments.append(SayDigits(arg))
            elif kind == "recording" and isinstance(arg, str):
                segments.append(PlayRecording(arg))
            elif kind == "tone" and arg in TONES:
                segments.append(Tone(arg))
            else:
                problems.append(f"{where}: unknown prompt segment {item!r}")
        else:
            problems.append(f"{where}: a prompt segment is a string or a one-key mapping, "
                            f"not {item!r}")
    return tuple(segments)


def _check_template(text: str, where: str, problems: list[str]) -> None:
    try:
        list(string.Formatter().parse(text))
    except ValueError as exc:
        problems.append(f"{where}: bad {{variable}} in {text!r}: {exc}")


NODE_FIELDS = frozenset(Node.__dataclass_fields__) - {"name"}


def _build_node(name: str, body: Any, defaults: dict[str, Any],
                problems: list[str]) -> Node | None:
    where = f"node {name!r}"
    if not isinstance(body, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    kind = body.get("type")
    if kind not in NODE_TYPES:
        problems.append(f"{where}: unknown type {kind!r} (one of {', '.join(sorted(NODE_TYPES))})")
        return None
    unknown = set(body) - NODE_FIELDS
    if unknown:
        problems.append(f"{where}: unknown fields {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {"name": name, "type": kind}
    for key in ("prompt", "invalid_prompt", "confirm_prompt"):
        if key in body:
            values[key] = _prompt(body[key], f"{where} {key}", problems)
    for key in ("next", "cancel", "empty"):
        if body.get(key) is not None:
            values[key] = str(body[key])
    for key in ("var", "call", "items", "target", "check", "terminator", "item_prompt"):
        if key in body:
            values[key] = str(body[key])
    values["timeout"] = _number(body.get("timeout", defaults["timeout"]), f"{where} timeout",
                                problems)
    values["retries"] = int(_number(body.get("retries", defaults["retries"]),
                                    f"{where} retries", problems))
    for key in ("digits", "max_digits"):
        if key in body:
            value = body[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems.append(f"{where}: {key} must be a whole number >= 0")
            else:
                values[key] = value
    if "max_seconds" in body:
        values["max_seconds"] = _number(body["max_seconds"], f"{where} max_seconds", problems)
    for key in ("choices", "outcomes", "args"):
        if key in body:
            mapping = body[key]
            if not isinstance(mapping, dict):
                problems.append(f"{where}: {key} must be a mapping")
                continue
            values[key] = {str(k): str(v) for k, v in mapping.items()}
    node = Node(**values)
    _check_node(node, where, problems)
    return node


def _check_node(node: Node, where: str, problems: list[str]) -> None:
    def need(condition: bool, message: str) -> None:
        if not condition:
            problems.append(f"{where}: {message}")

    for key in node.choices:
        need(len(key) == 1 and key in KEYS, f"bad key {key!r} in choices (one of 0-9, *, #)")
    need(node.check in CHECKS, f"unknown check {node.check!r}")
    if node.type in ("menu", "list_menu", "collect", "record", "play", "hangup", "transfer"):
        need(bool(node.prompt) or node.type in ("hangup", "transfer", "list_menu"),
             "needs a prompt")
    if node.type == "menu":
        need(bool(node.choices), "a menu needs choices")
    elif node.type in ("play",):
        need(node.next is not None, "needs 'next'")
    elif node.type == "collect":
        need(bool(node.var), "needs 'var' to store the digits")
        need(node.next is not None, "needs 'next'")
        need(node.terminator in KEYS, "terminator must be a key")
        need(node.digits > 0 or node.terminator != "", "needs 'digits' or a terminator")
    elif node.type == "record":
        need(bool(node.var), "needs 'var' to store the recording")
        need(node.next is not None, "needs 'next' (where confirm goes)")
        need(node.cancel is not None, "needs 'cancel' (where 3 goes)")
    elif node.type == "service":
        need(bool(node.call), "needs 'call' (the service name)")
        need(node.next is not None or bool(node.outcomes), "needs 'next' or 'outcomes'")
    elif node.type == "list_menu":
        need(bool(node.items), "needs 'items' (the variable holding the list)")
        need(bool(node.var), "needs 'var' to store the chosen item")
        need(node.next is not None, "needs 'next'")
        need(node.empty is not None, "needs 'empty' (where an empty list goes)")
        need(not any(k.isdigit() and k != "0" for k in node.choices),
             "digits 1-9 are the list's; only 0, * and # may be choices")
    elif node.type == "transfer":
        need(bool(node.target), "needs a 'target'")


def _check_graph(flow: Flow, raw_nodes: dict[str, Any], services: set[str] | None,
                 problems: list[str]) -> None:
    names = set(raw_nodes)
    for key, what in ((flow.start, "start"), (flow.operator, "operator"),
                      (flow.fallback, "fallback")):
        if not key:
            problems.append(f"the flow needs '{what}'")
        elif key not in names:
            problems.append(f"'{what}' names an unknown node {key!r}")
    for node in flow.nodes.values():
        for target in node.successors():
            if target not in names:
                problems.append(f"node {node.name!r}: unknown node {target!r}")
        if services is not None and node.type == "service" and node.call not in services:
            problems.append(f"node {node.name!r}: unknown service {node.call!r} "
                            f"(one of {', '.join(sorted(services))})")
    # A loop through nodes that never wait for the caller would spin forever.
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        node = flow.nodes[name]
        for target in node.successors():
            target_node = flow.nodes.get(target)
            if target_node is None or target_node.type in WAITING_TYPES:
                continue
            if state.get(target) == 1:
                loop = [*path[path.index(target):], target] if target in path else [name, target]
                problems.append("a loop without input: " + " -> ".join(loop))
            elif state.get(target) is None:
                visit(target, [*path, target])
        state[name] = 2

    for name, node in flow.nodes.items():
        if node.type not in WAITING_TYPES and name not in state:
            visit(name, [name])


GREETING_NODE = "line_greeting"


def with_greeting(flow: Flow, text: str) -> Flow:
    """The flow preceded by one spoken ``text`` (a merged hotline number announcing itself:
    "原市水务热线已并入12345…"); the flow itself is unchanged. No text: the flow as it is."""
    text = text.strip()
    if not text:
        return flow
    greeting = Node(name=GREETING_NODE, type="play", prompt=(Say(text),), next=flow.start)
    return replace(flow, start=GREETING_NODE, nodes={**flow.nodes, GREETING_NODE: greeting})
