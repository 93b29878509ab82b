"""The demo's one entry point for the launcher (``make run``): load the whole demo into a
database without orders, and say who can log in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Welcome:
    """What the launcher shows once the hotline runs: the demo accounts (username, role,
    unit), their password, and the administrators' authenticator keys (username, base32 key,
    otpauth URI). ``unavailable`` says why they could not be read (the start goes on)."""

    password: str = ""
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    second_factors: list[tuple[str, str, str]] = field(default_factory=list)
    unavailable: str = ""


def load_if_empty(say: Callable[[str], None]) -> bool:
    """Load the city with its orders, the knowledge base, the call centre's queues and SIP
    extensions, and the published mailbox letters (when the shared data is there), unless the
    database has orders; True when it loaded."""
    from hotline.demo import appointments, assessment, callbacks, city, desk, knowledge, mailbox, quality
    from hotline.orders.models import Order

    if Order.objects.exists():
        say("the database has orders: demo data not loaded")
        return False
    say("loading demo data (first start only)")
    say(city.load_demo(progress=say).message)
    say(assessment.score_demo_months())
    say("loading the demo knowledge base")
    counts = knowledge.load_demo_knowledge()
    say(f"knowledge entries: {counts['created']} created, {counts['skipped']} already there")
    say("loading the demo call queues and SIP extensions")
    made = desk.load_demo_desk()
    say(f"SIP extensions {', '.join(number for number, _user in made)} (password "
        "from HOTLINE_DEMO_SIP_PASSWORD)" if made else "queues exist already: demo desk not loaded")
    say("loading published mayor's-mailbox letters")
    say(mailbox.load_letters().message)
    say(f"quality inspection: {quality.load_demo_quality()} scorecard items")
    say(appointments.load_demo_appointments())
    say(callbacks.load_demo_callbacks())
    from hotline.demo.campaigns import load_demo_campaigns

    say(load_demo_campaigns())
    return True


def welcome() -> Welcome:
    """The demo accounts to show; never fails (the demo is a convenience)."""
    from hotline.demo import city

    try:
        return Welcome(password=city.demo_password(), logins=city.demo_logins(),
                       second_factors=city.demo_second_factors())
    except Exception as exc:  # a missing table, a broken row: report it and carry on
        return Welcome(unavailable=f"{exc.__class__.__name__}: {exc}")


def start(say: Callable[[str], None]) -> Welcome:
    """Load the demo into a database without orders (a failure stops the start: a half-loaded
    demo would mislead), then return who can log in."""
    load_if_empty(say)
    return welcome()
