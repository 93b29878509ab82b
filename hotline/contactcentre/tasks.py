"""The contact centre's periodic housekeeping, run by the worker's scheduler (``PERIODIC``).

Agents whose wrap-up time is over become ready within a second or two, whether or not a call
is waiting (the gateways' routers do it too, but only while they route), and the desk event
outbox is trimmed once an hour. Cheap enough to run in the scheduler itself: one indexed query
each.
"""

from __future__ import annotations

import logging

from hotline.core.periodic import PeriodicJob

log = logging.getLogger("hotline.scheduler")


def end_wrap_ups() -> int:
    from hotline.contactcentre.services import do_expire_wrap_ups

    ready = do_expire_wrap_ups()
    if ready:
        log.info("wrap-up over: %d agents ready", len(ready))
    return len(ready)


def purge_events() -> int:
    from hotline.contactcentre import events

    return events.purge()


def route_chats() -> int:
    """Chats waiting while agents became ready (a chat is also routed when it starts and when
    an agent ends one), and citizens gone from a waiting chat."""
    from hotline.contactcentre import chat

    gone = chat.do_sweep_chats()
    return gone + len(chat.do_route_chats())


def recover_faxes() -> int:
    from hotline.contactcentre import faxes

    return faxes.do_recover_faxes()


PERIODIC = [
    PeriodicJob("wrap-up-end", 1.0, run=end_wrap_ups),
    PeriodicJob("chat-routing", 2.0, run=route_chats),
    PeriodicJob("desk-events-purge", 3600.0, run=purge_events),
    PeriodicJob("fax-recovery", 300.0, run=recover_faxes),
]
