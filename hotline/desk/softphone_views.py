"""The desk's softphone signalling: the browser's SDP offer in, the gateway's answer out.

The browser posts its complete offer (ICE gathered: no trickle), then reads its registration
until a gateway has answered (``hotline.contactcentre.softphones``; the gateway's side is
``hotline.voice.webrtc.peers``). Only agents and shift monitors whose extension rings in the
desk may register, and each reads and closes only their own registration.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_POST

from hotline.contactcentre.softphones import (
    do_close_softphone,
    do_offer_softphone,
    softphone_session_for,
)
from hotline.core.errors import InvalidInput, ServiceError
from hotline.desk.views import desk_required, error_text
from hotline.web.access import StaffRequest


def _error(error: ServiceError) -> JsonResponse:
    return JsonResponse({"error": error_text(error)}, status=error.status)


@desk_required
@require_POST
def softphone_register(request: StaffRequest) -> JsonResponse:
    sdp = request.POST.get("sdp")
    try:
        if sdp is None:
            raise InvalidInput(gettext_noop("not a session description"), "sdp")
        session = do_offer_softphone(request.user, sdp)
    except ServiceError as error:
        return _error(error)
    return JsonResponse({"session": session.pk, "state": session.state}, status=201)


@desk_required
@require_GET
def softphone_session(request: StaffRequest, session_id: int) -> JsonResponse:
    try:
        session = softphone_session_for(request.user, session_id)
    except ServiceError as error:
        return _error(error)
    return JsonResponse({"session": session.pk, "state": session.state,
                         "answer": session.answer_sdp})


@desk_required
@require_POST
def softphone_close(request: StaffRequest, session_id: int) -> JsonResponse:
    do_close_softphone(request.user, session_id)
    return JsonResponse({"session": session_id, "closed": True})
