"""Whether a notice may go to a phone by SMS. One small function so the lead can swap it for
``hotline.outreach.notifications.may_message`` (the surveys work adds it) at merge: until then
it asks intake's opt-out list (a citizen who replied TD gets no notices)."""

from __future__ import annotations

from hotline.intake.sms.outbound import opted_out


def may_message(phone: str) -> bool:
    return bool(phone) and not opted_out(phone)
