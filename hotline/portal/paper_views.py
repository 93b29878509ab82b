"""Registering a paper letter (来信) or a walk-in visit (来访) with its scanned pages.

The registration enters through ``do_receive`` like every channel, with the agent as the actor,
so the contact and the order name who took them in (as a call names its agent). ``do_receive``
refuses with a reason rather than raising; the reason lands on the form field it concerns.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.intake.messages import InboundFile, Outcome
from hotline.intake.paper import PaperRegistration, paper_message
from hotline.intake.services import do_receive
from hotline.portal.order_access import CREATE_ROLES, may_create_orders
from hotline.portal.paper_forms import PaperForm
from hotline.web.access import StaffRequest, role_required

# Where do_receive's refusal fields land on the form.
REFUSAL_FIELDS = {"sender_phone": "citizen_phone", "text": "text", "attachments": "scans",
                  "category": "category", "district": "district", "type": "order_type",
                  "address": "address"}


@role_required(may_create_orders, roles=CREATE_ROLES)
def register(request: StaffRequest) -> HttpResponse:
    form = PaperForm(request.POST or None, request.FILES or None)
    if request.method != "POST":
        return render(request, "portal/paper_new.html", {"form": form})
    if not form.is_valid():
        return render(request, "portal/paper_new.html", {"form": form}, status=422)
    data = form.cleaned_data
    registration = PaperRegistration(
        channel=data["channel"], text=data["text"], order_type=data["order_type"],
        title=data.get("title") or "", name=data.get("citizen_name") or "",
        phone=data.get("citizen_phone") or "", address=data.get("address") or "",
        district=data.get("district") or "", category=data.get("category") or "",
        confidential=bool(data.get("confidential")),
        scans=[InboundFile(f.name or "scan", f.read(), f.content_type or "")
               for f in data["scans"]])
    receipt = do_receive(paper_message(registration, registered_at=timezone.now(),
                                       registration_id=data["idempotency_key"]),
                         actor=request.user)
    if not receipt.accepted or not receipt.order_number:
        form.add_error(REFUSAL_FIELDS.get(receipt.field),
                       _(receipt.reason) if receipt.reason else _("The registration was refused."))
        return render(request, "portal/paper_new.html", {"form": form}, status=422)
    return render(request, "portal/paper_done.html", {
        "number": receipt.order_number, "channel": registration.channel,
        "attached": receipt.outcome == Outcome.ATTACHED,
        "again": receipt.outcome == Outcome.DUPLICATE,
    })
