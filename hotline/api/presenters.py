"""Orders as the API shows them to one caller: the citizen masked or hidden per the caller's
role (``hotline.orders.scope``), recordings left out for those who may not know the citizen, and
the history, contacts and file names as ``hotline.orders.disclosure`` lets the caller see them."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from hotline.directory.models import User
from hotline.orders import lifecycle
from hotline.orders.attachments import visible_attachments
from hotline.orders.disclosure import Disclosure
from hotline.orders.models import Contact, Order, OrderAction
from hotline.orders.scope import citizen_hidden, shown_name, shown_phone

_ACTION_LABELS = dict(OrderAction.choices)


def order_summary(order: Order, seen: Disclosure | None = None) -> dict[str, Any]:
    """Fields every caller who sees the order may see; no citizen (``seen`` blanks a hidden
    reporter's name in the title). Uses the codes of related objects, so the caller's queryset
    should select_related district, category, lead_unit and citizen."""
    return {
        "number": order.number,
        "state": order.state,
        "type": order.type,
        "channel": order.channel,
        "urgency": order.urgency,
        "title": seen.order_title(order) if seen is not None else order.title,
        "confidential": order.confidential,
        "district": order.district.code if order.district else None,
        "category": order.category.code if order.category else None,
        "lead_unit": order.lead_unit.code if order.lead_unit else None,
        "created_at": order.created_at,
        "sign_due": order.sign_due,
        "handle_due": order.handle_due,
        "closed_at": order.closed_at,
        "overdue": order.overdue_at is not None,
    }


def _events(seen: Disclosure, order: Order) -> list[dict[str, Any]]:
    events = order.events.select_related("unit").order_by("seq")
    return [
        {
            "seq": e.seq, "action": e.action, "action_label": str(_ACTION_LABELS.get(e.action, "")),
            "from_state": e.from_state, "to_state": e.to_state, "actor": e.actor_name,
            "unit": e.unit.code if e.unit else None, "note": e.note, "data": e.data,
            "created_at": e.created_at,
        }
        for e in seen.events(order, events)
    ]


def _assignments(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "unit": a.unit.code, "unit_name": a.unit.name, "role": a.role, "active": a.active,
            "assigned_at": a.assigned_at, "signed_at": a.signed_at, "replied_at": a.replied_at,
            "reply_text": a.reply_text,
        }
        for a in order.assignments.select_related("unit").order_by("assigned_at", "pk")
    ]


def _attachments(seen: Disclosure, order: Order) -> list[dict[str, Any]]:
    return [
        {
            "id": a.pk, "kind": a.kind, "name": seen.attachment_name(order, a),
            "content_type": a.content_type, "size": a.size, "sha256": a.sha256,
            "created_at": a.created_at,
            "url": reverse("api:download_attachment", args=[order.number, a.pk]),
        }
        for a in visible_attachments(seen.viewer, order)
    ]


def _contacts(seen: Disclosure, order: Order) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk, "channel": c.channel, "direction": c.direction,
            "occurred_at": c.occurred_at, "summary": c.summary,
        }
        for c in seen.contacts(Contact.objects.filter(orders=order)).order_by("occurred_at", "pk")
    ]


def order_detail(user: User, order: Order) -> dict[str, Any]:
    hidden = citizen_hidden(user, order)
    seen = Disclosure(user)
    return {
        **order_summary(order, seen),
        "text": seen.order_text(order),
        "address": order.address,
        "citizen": {
            "name": shown_name(user, order), "phone": shown_phone(user, order), "hidden": hidden,
        },
        "state_label": str(order.get_state_display()),
        "dispatched_at": order.dispatched_at,
        "signed_at": order.signed_at,
        "replied_at": order.replied_at,
        "reply_text": order.reply_text,
        "resolved": order.resolved,
        "satisfaction": order.satisfaction,
        "supervised": order.supervised,
        "major_event": order.major_event,
        "extension_pending_days": order.extension_pending_days,
        "reopen_count": order.reopen_count,
        "merged_into": order.merged_into.number if order.merged_into else None,
        "allowed_actions": [
            a.value for a in lifecycle.allowed_actions(order.state)
            if user.is_superuser or user.role in lifecycle.ACTION_ROLES[a]
        ],
        "events": _events(seen, order),
        "assignments": _assignments(order),
        "attachments": _attachments(seen, order),
        "contacts": _contacts(seen, order),
    }
