"""A booking's states and what moves them, as data (pure: no Django).

booked --cancel--> cancelled      (the citizen by code or link, or staff, before the slot)
booked --attend--> attended       (the department's staff, once the slot has begun)
booked --no_show--> no_show       (the department's staff, once the slot has ended)
Nothing leaves cancelled, attended or no_show: a mistake is a new booking, not an edit.
"""

from __future__ import annotations

from enum import StrEnum


class BookingState(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class BookingAction(StrEnum):
    BOOK = "book"
    CANCEL = "cancel"
    ATTEND = "attend"
    NO_SHOW = "no_show"
    REMIND = "remind"  # recorded only: the state stays


class BookingTransitionError(Exception):
    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"booking action {action!r} is not allowed in state {state!r}")
        self.state = state
        self.action = action


TRANSITIONS: dict[BookingState, dict[BookingAction, BookingState]] = {
    BookingState.BOOKED: {
        BookingAction.CANCEL: BookingState.CANCELLED,
        BookingAction.ATTEND: BookingState.ATTENDED,
        BookingAction.NO_SHOW: BookingState.NO_SHOW,
        BookingAction.REMIND: BookingState.BOOKED,
    },
    BookingState.CANCELLED: {},
    BookingState.ATTENDED: {},
    BookingState.NO_SHOW: {},
}


def next_booking_state(state: str, action: str) -> BookingState:
    try:
        return TRANSITIONS[BookingState(state)][BookingAction(action)]
    except (KeyError, ValueError):
        raise BookingTransitionError(state, action) from None
