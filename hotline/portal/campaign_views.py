"""The campaigns' pages (主动服务): the list, the builder, a campaign's page with its live
progress bar (``campaign_progress.js`` polls the small JSON endpoint), its buttons (start,
pause, resume, cancel), its results per recipient (phones masked) and the Excel export.
Who may and what is allowed is decided by ``hotline.outreach.campaigns``."""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.core.errors import NotFound, ServiceError
from hotline.core.masking import mask_emails
from hotline.core.phones import mask_phone
from hotline.core.spreadsheets import new_workbook, write_row
from hotline.orders.access_log import do_log_access
from hotline.orders.models import AccessKind
from hotline.orders.scope import mask_name
from hotline.outreach import campaign_rules, campaigns
from hotline.outreach.campaign_recipients import Choice, candidates, viewer_district
from hotline.outreach.models import Campaign, Recipient
from hotline.outreach.notice_audio import store_recording
from hotline.portal.campaign_forms import CampaignForm
from hotline.web.access import StaffRequest, role_required
from hotline.web.forms import add_service_error

ROLES = campaigns.CAMPAIGN_ROLES
PAGE_SIZE = 50
EXPORT_MAX_ROWS = 10_000
ACTION_LABELS = {
    campaign_rules.Action.START: gettext_lazy("Start"),
    campaign_rules.Action.SCHEDULE: gettext_lazy("Start"),
    campaign_rules.Action.PAUSE: gettext_lazy("Pause"),
    campaign_rules.Action.RESUME: gettext_lazy("Resume"),
    campaign_rules.Action.CANCEL: gettext_lazy("Cancel the campaign"),
}


def shown_address(recipient: Recipient) -> str:
    """Masked on screen: the page is for following the campaign, not for copying numbers."""
    if "@" in recipient.address:
        return mask_emails(recipient.address)
    return mask_phone(recipient.address)


def shown_name(recipient: Recipient) -> str:
    return "***" if recipient.confidential else mask_name(recipient.name)


@role_required(campaigns.may_run_campaigns, roles=ROLES)
def campaign_list(request: StaffRequest) -> HttpResponse:
    rows = []
    page = Paginator(campaigns.visible_campaigns(request.user), 25).get_page(
        request.GET.get("page"))
    for campaign in page.object_list:
        rows.append({"campaign": campaign, "progress": campaigns.campaign_progress(campaign)})
    return render(request, "portal/outreach/campaign_list.html", {"page": page, "rows": rows})


def _input(form: CampaignForm, recording: str) -> campaigns.CampaignInput:
    data = form.cleaned_data
    zone = timezone.get_current_timezone()

    def aware(value: Any) -> Any:
        if value is not None and timezone.is_naive(value):
            return timezone.make_aware(value, zone)
        return value

    return campaigns.CampaignInput(
        name=data["name"], channel=data["channel"], topic=data["topic"],
        message=data.get("message") or "", subject=data.get("subject") or "",
        recording=recording, poll_id=int(data["poll"]) if data.get("poll") else None,
        per_minute=data["per_minute"], concurrent=data["concurrent"],
        max_attempts=data["max_attempts"], starts_at=aware(data.get("starts_at")),
        ends_at=aware(data.get("ends_at")), daily_start=data["daily_start"],
        daily_end=data["daily_end"],
        selection={k: str(data.get(k) or "") for k in ("source", "district", "street", "tag",
                                                       "category", "since_days")})


def _choice(form: CampaignForm, request: StaffRequest) -> Choice:
    data = form.cleaned_data
    upload = request.FILES.get("upload")

    def number(name: str) -> int | None:
        value = data.get(name)
        return int(value) if value else None

    return Choice(source=data["source"], district_id=number("district"),
                  street_id=number("street"), tag=data.get("tag") or "",
                  category_id=number("category"), since_days=data.get("since_days") or 365,
                  upload=upload.file if upload is not None else None,
                  upload_name=upload.name or "" if upload is not None else "")


@role_required(campaigns.may_run_campaigns, roles=ROLES)
def campaign_new(request: StaffRequest) -> HttpResponse:
    district = viewer_district(request.user)
    if request.method != "POST":
        return render(request, "portal/outreach/campaign_form.html",
                      {"form": CampaignForm(district=district)})
    form = CampaignForm(request.POST, request.FILES, district=district)
    if form.is_valid():
        try:
            recording = ""
            audio = request.FILES.get("recording")
            if form.cleaned_data["channel"] == Campaign.Channel.RECORDING and audio is not None \
                    and audio.file is not None:
                recording = store_recording(audio.file, audio.size or 0)
            data = _input(form, recording)
            campaigns.check_campaign(request.user, data)
            email = data.channel == Campaign.Channel.EMAIL
            chosen = candidates(request.user, _choice(form, request), email=email)
            campaign = campaigns.do_create_campaign(request.user, data, chosen)
        except ServiceError as error:
            add_service_error(form, ServiceError(_(error.message), error.field))
        else:
            messages.success(request, _("The campaign was created with %(count)d recipients. "
                                        "Check it, then start it.") % {"count": len(chosen)})
            return redirect("outreach:campaign_detail", campaign_id=campaign.pk)
    return render(request, "portal/outreach/campaign_form.html", {"form": form}, status=400)


def _campaign(request: StaffRequest, campaign_id: int) -> Campaign:
    try:
        return campaigns.get_campaign(request.user, campaign_id)
    except NotFound:
        raise Http404(_("No such campaign.")) from None


@role_required(campaigns.may_run_campaigns, roles=ROLES)
def campaign_detail(request: StaffRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    status = request.GET.get("status", "")
    recipients = campaign.recipients.all()
    if status in Recipient.Status.values:
        recipients = recipients.filter(status=status)
    page = Paginator(recipients, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"r": r, "address": shown_address(r), "name": shown_name(r),
             "keys": ", ".join(f"{k}={v}" for k, v in sorted(r.result.items()))}
            for r in page.object_list]
    actions = [(a.value, ACTION_LABELS[a]) for a in campaign_rules.allowed_actions(campaign.state)
               if a != campaign_rules.Action.SCHEDULE]
    return render(request, "portal/outreach/campaign_detail.html", {
        "campaign": campaign, "progress": campaigns.campaign_progress(campaign),
        "page": page, "rows": rows, "actions": actions, "status": status,
        "statuses": Recipient.Status.choices,
    })


@role_required(campaigns.may_run_campaigns, roles=ROLES)
def campaign_progress(request: StaffRequest, campaign_id: int) -> JsonResponse:
    campaign = _campaign(request, campaign_id)
    progress = campaigns.campaign_progress(campaign).as_dict()
    return JsonResponse({"state": campaign.state, "state_label": campaign.get_state_display(),
                         **progress})


@role_required(campaigns.may_run_campaigns, roles=ROLES)
def campaign_action(request: StaffRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(request, campaign_id)
    if request.method != "POST":
        return redirect("outreach:campaign_detail", campaign_id=campaign.pk)
    try:
        campaigns.do_campaign_action(request.user, campaign.pk, request.POST.get("action", ""))
    except ServiceError as error:
        messages.error(request, _(error.message))
    else:
        messages.success(request, _("Done."))
    return redirect("outreach:campaign_detail", campaign_id=campaign.pk)


EXPORT_HEADER = (gettext_lazy("No."), gettext_lazy("Phone or email"), gettext_lazy("Name"),
                 gettext_lazy("Chosen as"), gettext_lazy("Status"), gettext_lazy("Attempts"),
                 gettext_lazy("Released"), gettext_lazy("Finished"), gettext_lazy("Keys pressed"),
                 gettext_lazy("Detail"))


@role_required(campaigns.may_run_campaigns, roles=ROLES)
def campaign_export(request: StaffRequest, campaign_id: int) -> HttpResponse:
    """Results per recipient as .xlsx (text cells neutralised); logged like every export.
    Full numbers: the centre follows up the unreached; a reporter's name stays hidden."""
    campaign = _campaign(request, campaign_id)
    book, sheet = new_workbook(_("Results")[:31], [str(h) for h in EXPORT_HEADER])
    count = 0
    for r in campaign.recipients.order_by("pk")[:EXPORT_MAX_ROWS]:
        local = timezone.localtime
        write_row(sheet, [
            r.pk, r.address, "***" if r.confidential else r.name, r.get_source_display(),
            r.get_status_display(), r.attempts,
            local(r.released_at).strftime("%Y-%m-%d %H:%M:%S") if r.released_at else "",
            local(r.finished_at).strftime("%Y-%m-%d %H:%M:%S") if r.finished_at else "",
            ", ".join(f"{k}={v}" for k, v in sorted(r.result.items())), r.detail])
        count += 1
    do_log_access(request.user, AccessKind.EXPORT, request=request,
                  detail=f"campaign {campaign.pk} results: {count}")
    data = io.BytesIO()
    book.save(data)
    response = HttpResponse(
        data.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.xlsx"'
    return response
