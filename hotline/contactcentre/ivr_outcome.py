"""How a caller leaves an IVR node, pure (no Django): the IVR engine (``hotline.voice.ivr``)
records it, ``IvrVisit.outcome`` stores it and the IVR reports count it."""

from __future__ import annotations

from enum import StrEnum


class VisitOutcome(StrEnum):
    """How the caller left a node (what the IVR reports count per node)."""

    PASSED = "passed"  # a prompt played (or a list was empty) and the flow went on
    CHOSEN = "chosen"  # a menu key or a list item chose the next node
    COLLECTED = "collected"  # digits collected and accepted
    RECORDED = "recorded"  # a recording confirmed
    CANCELLED = "cancelled"  # a recording discarded
    SERVICE = "service"  # a service answered; its outcome picked the branch
    OPERATOR = "operator"  # 0: to a person
    GAVE_UP = "gave_up"  # too many wrong keys or silences: to the fallback
    TRANSFERRED = "transferred"  # the flow handed the caller to a queue or a number
    ENDED = "ended"  # the flow hung up
    CALLER_HUNG_UP = "caller_hung_up"  # the caller left while at this node
