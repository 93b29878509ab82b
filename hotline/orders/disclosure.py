"""What one viewer is told about an order's surroundings: its history, the orders merged into
it, its contacts and its files, through the same rule as the order's own citizen
(``scope.citizen_hidden``).

Why one place: the reporter of a 举报 (or the citizen of a confidential order) is hidden from a
department on the order itself, but an order also talks about other orders. A complaint's
history says a 举报 was merged into it "by the same caller"; a 举报's page lists the complaint
merged into it with that complaint's citizen; contacts move along with a merge. Each of those
tells the department who reported. So every detail that identifies a citizen is shown only to a
viewer who may know the citizen of every order involved.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from hotline.directory.models import OrderType, User
from hotline.orders.models import Attachment, Contact, Order, OrderEvent
from hotline.orders.scope import citizen_hidden, shown_name, shown_phone

# History details that name other orders: a merge ("merged" on the target, "into" on the
# merged order) and a link ("with" on both sides).
ORDER_REFERENCE_KEYS = ("merged", "into", "with")
# History details that say who the citizen is, or whether two orders share one: left out when
# the viewer may not know the citizen of one of the orders involved.
CITIZEN_KEYS = frozenset({
    "same_caller", "caller", "phone", "name", "email", "citizen", "citizen_id", "citizen_name",
    "citizen_phone", "citizens", "contact", "contact_id", "contact_ids", "summary", "reasons",
    "reason_codes",
})
REDACTED = "***"
_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,10}$")
_MIN_NAME_CHARS = 2  # a one-character "name" would blot out every such character of a text


def hides_confidential(viewer: User) -> bool:
    """Whether the viewer is one of those from whom confidential citizens are hidden (the rule of
    ``scope.citizen_hidden``, asked without an order)."""
    probe = Order(confidential=True, type=OrderType.REPORT)
    return citizen_hidden(viewer, probe)


def _hidden_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}confidential": True}) | Q(**{f"{prefix}type": OrderType.REPORT})


class Disclosure:
    """One viewer's view of the orders around one order; remembers what it looked up."""

    def __init__(self, viewer: User) -> None:
        self.viewer = viewer
        self._by_number: dict[str, Order | None] = {}

    def hidden(self, order: Order) -> bool:
        return citizen_hidden(self.viewer, order)

    def _orders(self, numbers: Iterable[str]) -> list[Order]:
        missing = [n for n in numbers if n not in self._by_number]
        if missing:
            found = {o.number: o for o in Order.objects.select_related("citizen")
                     .filter(number__in=missing)}
            for number in missing:
                self._by_number[number] = found.get(number)
        return [o for n in numbers if (o := self._by_number.get(n)) is not None]

    def involved(self, order: Order, data: dict[str, Any]) -> list[Order]:
        numbers = [data[k] for k in ORDER_REFERENCE_KEYS if isinstance(data.get(k), str)]
        return [order, *self._orders(numbers)]

    def redact(self, text: str, orders: Iterable[Order]) -> str:
        """``text`` without the name and number of the citizens of ``orders`` the viewer may not
        know (an agent's note "called back 张某某 on 138..." on a 举报)."""
        if not text:
            return text
        for other in orders:
            if self.hidden(other):
                text = redact_citizen(text, other.citizen.name, other.citizen.phone)
        return text

    def order_text(self, order: Order) -> str:
        """The citizen's text as the viewer may read it: a reporter's (举报) own name and number
        written into it are blanked for those who may not know who reported."""
        return self.redact(order.text, [order])

    def order_title(self, order: Order) -> str:
        return self.redact(order.title, [order])

    def event(self, order: Order, event: OrderEvent) -> OrderEvent:
        """A copy of ``event`` as the viewer sees it (never saved: history is append-only)."""
        data = event.data if isinstance(event.data, dict) else {}
        involved = self.involved(order, data)
        if not any(self.hidden(o) for o in involved):
            return event
        shown = copy.copy(event)
        shown.data = {k: v for k, v in data.items() if k not in CITIZEN_KEYS}
        shown.note = self.redact(event.note, involved)
        return shown

    def events(self, order: Order, events: Iterable[OrderEvent]) -> list[OrderEvent]:
        events = list(events)
        # One query for every order the history names, not one per event.
        self._orders([n for e in events if isinstance(e.data, dict)
                      for k in ORDER_REFERENCE_KEYS if isinstance(n := e.data.get(k), str)])
        return [self.event(order, e) for e in events]

    def merged(self, order: Order) -> list[MergedOrder]:
        """The orders merged into ``order`` that the viewer may see, each with its citizen only
        when the viewer may know the citizens of both orders: the merged complaint of a 举报's
        reporter would otherwise name the reporter on the 举报's page."""
        from hotline.orders.scope import visible_orders

        rows = visible_orders(self.viewer, order.merged_orders.select_related("citizen")) \
            .order_by("created_at", "pk")
        result = []
        for merged in rows:
            if self.hidden(order) or self.hidden(merged):
                result.append(MergedOrder(merged, "", ""))
            else:
                result.append(MergedOrder(merged, shown_name(self.viewer, merged),
                                          shown_phone(self.viewer, merged)))
        return result

    def contacts(self, contacts: QuerySet[Contact]) -> QuerySet[Contact]:
        """Contacts the viewer may see: none that concerns an order whose citizen the viewer may
        not know (a merge moves the 举报's contacts to the surviving order)."""
        if not hides_confidential(self.viewer):
            return contacts
        through = Contact.orders.through
        on_hidden = through.objects.filter(contact_id=OuterRef("pk")).filter(_hidden_q("order__"))
        return contacts.filter(~Exists(on_hidden))

    def attachment_name(self, order: Order, attachment: Attachment) -> str:
        """The file name as the viewer sees it: the citizen's own file name ("张三的身份证.jpg")
        may name them, so who may not know the citizen gets a neutral one; a department's
        reply files keep theirs."""
        if attachment.kind == Attachment.Kind.REPLY or not self.hidden(order):
            return attachment.name
        suffix = PurePath(attachment.name).suffix.lower()
        return f"{attachment.kind}-{attachment.pk}{suffix if _SAFE_SUFFIX.match(suffix) else ''}"


@dataclass(frozen=True)
class MergedOrder:
    order: Order
    name: str
    phone: str


def _phone_pattern(phone: str) -> re.Pattern[str] | None:
    digits = [ch for ch in phone if ch.isdigit()]
    if len(digits) < 5:
        return None
    # Written with spaces or dashes between the digits too; not inside a longer number.
    body = r"[\s\-]?".join(re.escape(d) for d in digits)
    return re.compile(rf"(?<!\d)(?:\+?86[\s\-]?)?{body}(?!\d)")


def redact_citizen(text: str, name: str, phone: str) -> str:
    pattern = _phone_pattern(phone)
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
        digits = "".join(ch for ch in phone if ch.isdigit())
        if len(digits) > 7:
            # The masked form (138****1234) still tells who it is to whoever has the list.
            masked = re.compile(rf"(?<!\d){re.escape(digits[:3])}\*+{re.escape(digits[-4:])}(?!\d)")
            text = masked.sub(REDACTED, text)
    name = name.strip()
    if len(name) >= _MIN_NAME_CHARS:
        text = text.replace(name, REDACTED)
    return text
