"""The demo's one entry point for the launcher (``make run``): begin the demo in a database
without orders (the worker loads its work orders in the background), and say who can log in."""

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


def load_if_empty(say: Callable[[str], None], orders: int | None = None) -> bool:
    """Write the city's directory and staff, the knowledge base, the call centre's queues and
    SIP extensions, the published mailbox letters (when the shared data is there) and the
    quality scorecard, and leave the work orders and what needs them to the worker
    (``hotline.demo.background``), unless the database has orders; True when it began.
    A load left unfinished by an earlier start is handed to the worker again."""
    from hotline.demo import background, city, desk, knowledge, mailbox, quality
    from hotline.demo.tasks import enqueue_next_chunk
    from hotline.orders.models import Order

    load = background.current()
    if load is not None:
        if not load.finished:
            say(f"demo orders: {load.orders_done} of {load.orders_planned} loaded; the worker "
                "loads the rest in the background")
            enqueue_next_chunk()
        return False
    if Order.objects.exists():
        say("the database has orders: demo data not loaded")
        return False
    say("loading demo data (first start only)")
    began = background.do_begin(city.DEFAULT_ORDERS if orders is None else orders,
                                city.DEFAULT_SEED)
    if began is None:
        say("the directory already has units; demo city not loaded")
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
    if began is not None:
        say(f"the worker loads the demo's {began.orders_planned} work orders in the background "
            "(pages work meanwhile and fill up as they come)")
        enqueue_next_chunk()
    return True


def welcome() -> Welcome:
    """The demo accounts to show; never fails (the demo is a convenience)."""
    from hotline.demo import city

    try:
        return Welcome(password=city.demo_password(), logins=city.demo_logins(),
                       second_factors=city.demo_second_factors())
    except Exception as exc:  # a missing table, a broken row: report it and carry on
        return Welcome(unavailable=f"{exc.__class__.__name__}: {exc}")


def start(say: Callable[[str], None], orders: int | None = None) -> Welcome:
    """Begin the demo in a database without orders (a failure stops the start: a half-written
    directory would mislead), then return who can log in."""
    load_if_empty(say, orders)
    return welcome()
