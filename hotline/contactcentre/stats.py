"""Live figures for the supervisor's wallboard, computed by the database.

``wallboard(now)`` is what the page and its websocket show: a fixed number of queries (nine)
whatever the size of the centre, each bounded by an index, so it can run every second for
300 agents and 100k queued calls a month.

Definitions (the ones the tests pin down):

- Waiting: calls not yet answered, i.e. ``waiting`` or ``ringing`` at an agent (the caller
  still hears the queue). The wait is counted from ``queued_at``, the moment the caller first
  joined any queue (an overflow to another queue does not reset it).
- Windows are half-open ``(now - minutes, now]``: an answer exactly 15 minutes ago is no
  longer in the 15-minute window, one at ``now`` is.
- A call counts in a window by the moment its queue time ended: ``answered_at`` for answered
  calls, ``abandoned_at`` for abandoned ones; it counts for the queue it is in at that moment.
- Service level = answered within the queue's ``service_level_s`` (wait <= target) divided by
  answered + abandoned. Calls abandoned within ``SHORT_ABANDON_S`` (5 s, inclusive) are left
  out of both: a caller who hangs up that fast has misdialled or was never really waiting (the
  usual definition in call centres). Every other abandoned call counts against the service
  level, even one that hung up before the target time had passed: that caller was not served.
  Calls that overflowed to voicemail or a call-back request left the queue unanswered but by
  the centre's choice; they are counted as ``overflowed`` and are in neither figure.
- Abandon rate = abandoned (after 5 s) / (answered + abandoned after 5 s).
- Average wait = mean ``wait_s`` of the calls answered in the window (average speed of answer).
- Average talk = mean ``ended_at - answered_at`` of the calls that ended in the window.
- Offered = calls that joined the ACD (``queued_at``) in the window.
- A transfer or consultation to a colleague makes another queue entry for the same call (the
  same ``call_ref``). Only a call's first entry counts as waiting, offered, answered or
  abandoned, so a transfer is not a new caller; the colleague's answer still counts in their
  calls handled today.
- Calls handled today = calls the agent answered since local midnight (the current one too).
- Forecast (Erlang C): arrivals of the last 60 minutes as the rate, AHT = the average talk of
  the last 60 minutes plus the queue's wrap-up time (the queue's configured ``aht_s`` when no
  call ended in the window), and the smallest number of agents whose Erlang C service level
  within ``service_level_s`` reaches ``TARGET_SHARE``.

Every window query also bounds ``queued_at`` to ``MAX_CALL_SPAN`` before the window, so the
``(outcome, queued_at)`` index limits the scan to recent calls rather than the whole history.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    Sum,
)
from django.db.models.expressions import Combinable
from django.utils import timezone

from hotline.contactcentre import call_figures
from hotline.contactcentre.acd import erlang, routing
from hotline.contactcentre.models import AgentStatus, CallOutcome, Queue, QueuedCall, Reason, State
from hotline.contactcentre.snapshot import agent_views, queue_rules
from hotline.core.phones import mask_phone

SHORT_ABANDON_S = call_figures.SHORT_ABANDON_S  # the definitions: call_figures
TARGET_SHARE = 0.80  # the service level goal: 80 % of calls within the queue's target seconds
WINDOWS = (15, 60)  # minutes
# No caller waits or talks this long: calls queued earlier than this before a window cannot
# have ended their wait (or their talk) inside it, so they are not read at all.
MAX_CALL_SPAN = dt.timedelta(hours=12)
MAX_AGENTS_NEEDED = 2000  # the staffing search stops here (a load this high is a data error)

UNANSWERED = (CallOutcome.WAITING, CallOutcome.RINGING)
ANSWERED = (CallOutcome.TALKING, CallOutcome.COMPLETED)
LIVE_CALL_STATES = (State.RINGING, State.TALKING, State.WRAP_UP)


@dataclass(frozen=True)
class WindowFigures:
    """One queue's (or all queues') calls in one window; sums, so windows add up."""

    minutes: int
    offered: int = 0
    answered: int = 0
    answered_in_target: int = 0
    abandoned: int = 0  # after more than SHORT_ABANDON_S
    short_abandoned: int = 0
    overflowed: int = 0
    wait_sum_s: float = 0.0  # over the answered calls
    ended: int = 0
    talk_sum_s: float = 0.0  # over the ended calls

    @property
    def counted(self) -> int:
        """The service level's denominator."""
        return self.answered + self.abandoned

    @property
    def service_level(self) -> float | None:
        return call_figures.service_level(self.answered_in_target, self.answered,
                                          self.abandoned)

    @property
    def abandon_rate(self) -> float | None:
        return call_figures.abandon_rate(self.answered, self.abandoned)

    @property
    def average_wait_s(self) -> float | None:
        return call_figures.mean(self.wait_sum_s, self.answered)

    @property
    def average_talk_s(self) -> float | None:
        return call_figures.mean(self.talk_sum_s, self.ended)

    def __add__(self, other: WindowFigures) -> WindowFigures:
        if other.minutes != self.minutes:
            raise ValueError("figures of different windows do not add up")
        return WindowFigures(
            self.minutes, self.offered + other.offered, self.answered + other.answered,
            self.answered_in_target + other.answered_in_target,
            self.abandoned + other.abandoned, self.short_abandoned + other.short_abandoned,
            self.overflowed + other.overflowed, self.wait_sum_s + other.wait_sum_s,
            self.ended + other.ended, self.talk_sum_s + other.talk_sum_s,
        )


@dataclass(frozen=True)
class Forecast:
    """Erlang C staffing for a queue from the last 60 minutes."""

    arrivals: int  # calls offered in the last 60 minutes
    aht_s: float
    load: float  # Erlangs: arrivals per second x AHT
    agents_needed: int
    serving: int  # qualified agents taking calls now or soon (ready, ringing, talking, wrap-up)

    @property
    def short_by(self) -> int:
        return max(0, self.agents_needed - self.serving)


@dataclass(frozen=True)
class QueueBoard:
    id: int
    code: str
    name: str
    service_level_s: int
    waiting: int
    longest_wait_s: float | None
    windows: dict[int, WindowFigures]
    forecast: Forecast

    @property
    def last15(self) -> WindowFigures:
        return self.windows[15]

    @property
    def last60(self) -> WindowFigures:
        return self.windows[60]


@dataclass(frozen=True)
class AgentCounts:
    signed_in: int = 0  # everyone at a desk, whatever the state
    not_yet_ready: int = 0  # signed in, neither ready nor not ready yet
    ready: int = 0
    not_ready: int = 0
    not_ready_by_reason: dict[str, int] = field(default_factory=dict)
    ringing: int = 0
    talking: int = 0
    wrap_up: int = 0


@dataclass(frozen=True)
class AgentRow:
    id: int
    name: str
    extension: str
    state: str
    reason: str
    since: dt.datetime
    seconds_in_state: float
    call_id: int | None
    caller: str  # masked
    on_hold: bool
    calls_today: int

    @property
    def state_label(self) -> str:
        return str(State(self.state).label)

    @property
    def reason_label(self) -> str:
        return str(Reason(self.reason).label) if self.reason in Reason.values else self.reason

    @property
    def on_call(self) -> bool:
        return self.state == State.TALKING and self.call_id is not None


@dataclass(frozen=True)
class Wallboard:
    now: dt.datetime
    waiting: int
    longest_wait_s: float | None
    queues: list[QueueBoard]
    totals: dict[int, WindowFigures]
    agents: AgentCounts
    agent_rows: list[AgentRow]
    target_share: float = TARGET_SHARE

    @property
    def last15(self) -> WindowFigures:
        return self.totals[15]

    @property
    def last60(self) -> WindowFigures:
        return self.totals[60]

    @property
    def service_level_s(self) -> int | None:
        """The target seconds shown on the tiles: the queues' common one, if they agree."""
        targets = {q.service_level_s for q in self.queues}
        return targets.pop() if len(targets) == 1 else None


# --- the pieces ---------------------------------------------------------------------------

def first_entries() -> Combinable:
    """True for a call's first queue entry (not a transfer's); an index probe on call_ref."""
    return ~Exists(QueuedCall.objects.filter(call_ref=OuterRef("call_ref"), pk__lt=OuterRef("pk")))


def waiting_now(now: dt.datetime) -> dict[int, tuple[int, float | None]]:
    """Queue id -> (calls waiting, longest current wait in seconds). One query."""
    # The ids come from the (outcome, queued_at) index; asked directly, SQLite prefers to walk
    # the queue index for the GROUP BY and reads every call ever queued (80 ms at 300k calls).
    unanswered = QueuedCall.objects.filter(outcome__in=UNANSWERED).values("pk")
    rows = (QueuedCall.objects.filter(first_entries(), pk__in=unanswered).values("queue_id")
            .annotate(n=Count("id"), oldest=Min("queued_at")).order_by())
    return {row["queue_id"]: (row["n"], max(0.0, (now - row["oldest"]).total_seconds())
                              if row["oldest"] else None) for row in rows}


def _window_aggregates(minutes: int, start: dt.datetime, end: dt.datetime) -> dict[str, object]:
    answered = Q(answered_at__gt=start, answered_at__lte=end, outcome__in=ANSWERED)
    abandoned = Q(abandoned_at__gt=start, abandoned_at__lte=end, outcome=CallOutcome.ABANDONED)
    ended = Q(ended_at__gt=start, ended_at__lte=end, outcome=CallOutcome.COMPLETED,
              answered_at__isnull=False)
    talk = ExpressionWrapper(F("ended_at") - F("answered_at"), output_field=DurationField())
    m = minutes
    return {
        f"offered_{m}": Count("id", filter=Q(queued_at__gt=start, queued_at__lte=end)),
        f"answered_{m}": Count("id", filter=answered),
        f"in_target_{m}": Count("id", filter=answered & Q(
            wait_s__lte=F("queue__service_level_s"))),
        f"abandoned_{m}": Count("id", filter=abandoned & Q(wait_s__gt=SHORT_ABANDON_S)),
        f"short_{m}": Count("id", filter=abandoned & Q(wait_s__lte=SHORT_ABANDON_S)),
        f"overflowed_{m}": Count("id", filter=Q(
            overflowed_at__gt=start, overflowed_at__lte=end, outcome=CallOutcome.OVERFLOWED)),
        f"wait_{m}": Sum("wait_s", filter=answered),
        f"ended_{m}": Count("id", filter=ended),
        f"talk_{m}": Sum(talk, filter=ended),
    }


def window_figures(now: dt.datetime, windows: Iterable[int] = WINDOWS
                   ) -> dict[int, dict[int, WindowFigures]]:
    """Queue id -> window minutes -> figures, for every queue with calls in the longest
    window. One grouped query with conditional aggregates for all windows."""
    windows = tuple(windows)
    longest = max(windows)
    aggregates: dict[str, object] = {}
    for minutes in windows:
        aggregates.update(_window_aggregates(minutes, now - dt.timedelta(minutes=minutes), now))
    rows = (QueuedCall.objects
            .filter(first_entries(),
                    outcome__in=CallOutcome.values,  # every value: lets the index serve the range
                    queued_at__gt=now - dt.timedelta(minutes=longest) - MAX_CALL_SPAN,
                    queued_at__lte=now)
            .values("queue_id").annotate(**aggregates).order_by())  # type: ignore[arg-type]
    result: dict[int, dict[int, WindowFigures]] = {}
    for row in rows:
        result[row["queue_id"]] = {m: WindowFigures(
            minutes=m, offered=row[f"offered_{m}"], answered=row[f"answered_{m}"],
            answered_in_target=row[f"in_target_{m}"], abandoned=row[f"abandoned_{m}"],
            short_abandoned=row[f"short_{m}"], overflowed=row[f"overflowed_{m}"],
            wait_sum_s=float(row[f"wait_{m}"] or 0.0), ended=row[f"ended_{m}"],
            talk_sum_s=_seconds(row[f"talk_{m}"]),
        ) for m in windows}
    return result


def _seconds(value: dt.timedelta | float | int | None) -> float:
    if value is None:
        return 0.0
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value) / 1e6  # a database without an interval type sums microseconds


def agent_counts() -> AgentCounts:
    """Signed-in agents by state, and the not-ready ones by reason. One grouped query."""
    by_state: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for row in (AgentStatus.objects.exclude(state=State.SIGNED_OUT).values("state", "reason")
                .annotate(n=Count("agent_id")).order_by()):
        by_state[row["state"]] = by_state.get(row["state"], 0) + row["n"]
        if row["state"] == State.BUSY:
            reasons[row["reason"]] = reasons.get(row["reason"], 0) + row["n"]
    return AgentCounts(
        signed_in=sum(by_state.values()), not_yet_ready=by_state.get(State.SIGNED_IN, 0),
        ready=by_state.get(State.IDLE, 0), not_ready=by_state.get(State.BUSY, 0),
        not_ready_by_reason=dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        ringing=by_state.get(State.RINGING, 0), talking=by_state.get(State.TALKING, 0),
        wrap_up=by_state.get(State.WRAP_UP, 0),
    )


def local_day_start(now: dt.datetime) -> dt.datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def calls_today(now: dt.datetime) -> dict[int, int]:
    """Agent id -> calls answered since local midnight. One grouped query."""
    start = local_day_start(now)
    rows = (QueuedCall.objects
            .filter(outcome__in=ANSWERED, queued_at__gt=start - MAX_CALL_SPAN,
                    queued_at__lte=now, answered_at__gte=start, answered_at__lte=now,
                    agent_id__isnull=False)
            .values("agent_id").annotate(n=Count("id")).order_by())
    return {row["agent_id"]: row["n"] for row in rows}


def agent_rows(now: dt.datetime, handled: dict[int, int] | None = None) -> list[AgentRow]:
    """Every signed-in agent with extension, state, time in state and the current caller
    (masked), longest in their state first within each state. One query (joins)."""
    handled = calls_today(now) if handled is None else handled
    rows = (AgentStatus.objects.exclude(state=State.SIGNED_OUT)
            .values_list("agent_id", "agent__display_name", "agent__username",
                         "extension__number", "state", "reason", "since", "call_id",
                         "call__caller", "call__on_hold"))
    out = []
    for (agent_id, display, username, extension, state, reason, since, call_id, caller,
         on_hold) in rows:
        live = state in LIVE_CALL_STATES and call_id is not None
        out.append(AgentRow(
            id=agent_id, name=display or username, extension=extension or "", state=state,
            reason=reason, since=since,
            seconds_in_state=max(0.0, (now - since).total_seconds()),
            call_id=call_id if live else None, caller=mask_phone(caller or "") if live else "",
            on_hold=bool(on_hold) if live else False, calls_today=handled.get(agent_id, 0),
        ))
    order = {s: i for i, s in enumerate(
        (State.TALKING, State.RINGING, State.WRAP_UP, State.IDLE, State.BUSY, State.SIGNED_IN))}
    out.sort(key=lambda r: (order.get(State(r.state), 9), r.since, r.name))
    return out


def agents_needed(load: float, aht_s: float, target_s: float,
                  target_share: float = TARGET_SHARE) -> int:
    """The fewest agents whose Erlang C service level within ``target_s`` reaches
    ``target_share`` for ``load`` Erlangs (0 when nothing arrives)."""
    if load <= 0 or aht_s <= 0:
        return 0
    agents = max(1, math.floor(load) + 1)  # fewer cannot keep up at all
    while agents < MAX_AGENTS_NEEDED:
        figures = erlang.erlang_c_figures(agents, load, aht_s, target_s)
        if figures is not None and figures.service_level >= target_share:
            return agents
        agents += 1
    return MAX_AGENTS_NEEDED


def forecast(last60: WindowFigures, *, wrap_up_s: float, configured_aht_s: float,
             target_s: float, serving: int, target_share: float = TARGET_SHARE) -> Forecast:
    talk = last60.average_talk_s
    aht = talk + wrap_up_s if talk is not None else float(configured_aht_s)
    load = last60.offered / (60 * last60.minutes) * aht
    return Forecast(arrivals=last60.offered, aht_s=aht, load=load,
                    agents_needed=agents_needed(load, aht, target_s, target_share),
                    serving=serving)


# --- the whole board ------------------------------------------------------------------------

def wallboard(now: dt.datetime | None = None, *, target_share: float = TARGET_SHARE
              ) -> Wallboard:
    """Everything the wallboard shows, as of ``now``."""
    now = now or timezone.now()
    waiting = waiting_now(now)
    figures = window_figures(now)
    queues = list(Queue.objects.filter(Q(active=True) | Q(pk__in=list(waiting) + list(figures)))
                  .values_list("pk", "code", "name", "service_level_s", "wrap_up_s", "aht_s")
                  .order_by("code"))
    rules = queue_rules()
    agents = agent_views()
    boards = []
    for pk, code, name, target_s, wrap_up_s, aht_s in queues:
        windows = figures.get(pk) or {m: WindowFigures(m) for m in WINDOWS}
        count, longest = waiting.get(pk, (0, None))
        rule = rules.get(str(pk))
        serving = routing.serving(rule, agents) if rule is not None else 0
        boards.append(QueueBoard(
            id=pk, code=code, name=name, service_level_s=target_s, waiting=count,
            longest_wait_s=longest, windows=windows,
            forecast=forecast(windows[60], wrap_up_s=wrap_up_s, configured_aht_s=aht_s,
                              target_s=target_s, serving=serving, target_share=target_share),
        ))
    totals = {m: sum((b.windows[m] for b in boards), WindowFigures(m)) for m in WINDOWS}
    longest_all = max((b.longest_wait_s for b in boards if b.longest_wait_s is not None),
                      default=None)
    return Wallboard(
        now=now, waiting=sum(b.waiting for b in boards), longest_wait_s=longest_all,
        queues=boards, totals=totals, agents=agent_counts(), agent_rows=agent_rows(now),
        target_share=target_share,
    )
