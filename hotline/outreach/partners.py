"""Partners (the 96180 model): the centre hands an order to a registered service provider,
the citizen rates the service, and a partner rated dissatisfied ``HOTLINE_PARTNER_SUSPEND_AFTER``
times (seed 001: three) since its registration or last reinstatement is suspended at once; a
suspended partner gets no new orders until the centre reviews it and reinstates it with a
reason. Every step is in the partner's reviews and in the order's history (through orders'
``do_record_partner_event``: orders never imports outreach).

The rating, the count and the suspension happen in one transaction holding the partner's row
lock, so two ratings arriving together count both and suspend once.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.core.phones import normalise_phone
from hotline.core.roles import Role
from hotline.directory.models import Category, OrderType, User
from hotline.intake.sms.outbound import OPT_OUT_HINT, send_sms
from hotline.orders.lifecycle import OPEN
from hotline.orders.models import Order, PartnerEvent, Satisfaction
from hotline.orders.partner_events import do_record_partner_event
from hotline.outreach.consent import may_message
from hotline.outreach.models_partners import (
    Partner,
    PartnerAction,
    PartnerAssignment,
    PartnerRating,
    PartnerReview,
    PartnerState,
    RatingSource,
)
from hotline.outreach.partner_states import (
    PartnerTransitionError,
    must_suspend,
    next_partner_state,
)

# Who works with partners: agents hand orders over and record ratings; the shift monitor and
# the centre administrator also review, suspend and reinstate.
PARTNER_DESK_ROLES = frozenset({Role.AGENT, Role.MONITOR, Role.CENTRE_ADMIN})
PARTNER_REVIEW_ROLES = frozenset({Role.MONITOR, Role.CENTRE_ADMIN})
RATING_SALT = "hotline.outreach.partner-rating"


def _may(actor: User, roles: frozenset[str]) -> bool:
    return actor.is_superuser or actor.role in roles


def check_partner_desk(actor: User) -> None:
    if not _may(actor, PARTNER_DESK_ROLES):
        raise Forbidden(_("Only the centre works with partners."))


def check_partner_review(actor: User) -> None:
    if not _may(actor, PARTNER_REVIEW_ROLES):
        raise Forbidden(_("Only a shift monitor or the centre administrator reviews partners."))


def partner_may_know_citizen(order: Order) -> bool:
    """A partner is told who the citizen is only for an ordinary order: never the reporter of
    a 举报 or the citizen of a confidential order (the rule departments follow)."""
    return not (order.confidential or order.type == OrderType.REPORT)


def dissatisfied_count(partner: Partner) -> int:
    return PartnerRating.objects.filter(partner=partner, satisfaction=Satisfaction.UNSATISFIED,
                                        created_at__gte=partner.counting_since).count()


def partners_for(order: Order) -> list[Partner]:
    """Active partners, those serving the order's category (or one of its parents) first."""
    categories: set[int] = set()
    category: Category | None = order.category
    while category is not None:
        categories.add(category.pk)
        category = category.parent
    active = list(Partner.objects.filter(state=PartnerState.ACTIVE)
                  .prefetch_related("categories"))
    return sorted(active, key=lambda p: (not categories & {c.pk for c in p.categories.all()},
                                         p.name))


def do_register_partner(actor: User | None, *, name: str, services: str, phone: str,
                        contact_name: str = "", address: str = "",
                        categories: list[Category] | None = None,
                        now: dt.datetime | None = None) -> Partner:
    if actor is not None:
        check_partner_review(actor)
    now = now or timezone.now()
    name, services, phone = name.strip(), services.strip(), normalise_phone(phone)
    if not name or not services or not phone:
        raise InvalidInput(_("A partner needs a name, its services and a phone number."))
    try:
        with transaction.atomic():
            partner = Partner.objects.create(name=name, services=services, phone=phone,
                                             contact_name=contact_name.strip(),
                                             address=address.strip(), counting_since=now,
                                             created_at=now)
    except IntegrityError:
        raise Conflict(_("A partner of this name is registered already."), "name") from None
    if categories:
        partner.categories.set(categories)
    return partner


# --- assigning ----------------------------------------------------------------------------

def do_assign(actor: User, order: Order, partner: Partner, *, note: str = "",
              now: dt.datetime | None = None) -> PartnerAssignment:
    """Hand ``order`` to ``partner`` (active only) and tell the partner by SMS."""
    check_partner_desk(actor)
    now = now or timezone.now()
    if order.type == OrderType.REPORT:
        raise InvalidInput(_("A report of wrongdoing is never handed to a partner."), "order")
    if order.state not in OPEN:
        raise Conflict(_("Only an open order can be handed to a partner."), "order")
    with transaction.atomic():
        locked = Partner.objects.select_for_update().get(pk=partner.pk)
        if locked.state != PartnerState.ACTIVE:
            raise Conflict(_("%(partner)s is suspended and takes no new orders.") % {
                "partner": locked.name}, "partner")
        try:
            with transaction.atomic():
                assignment = PartnerAssignment.objects.create(
                    order=order, partner=locked, assigned_by=actor, assigned_at=now,
                    note=note.strip()[:255])
        except IntegrityError:
            raise Conflict(_("This order was handed to %(partner)s already.") % {
                "partner": locked.name}, "partner") from None
        do_record_partner_event(order, PartnerEvent.PARTNER_ASSIGN, actor=actor,
                                note=note.strip(), data={"partner": locked.name,
                                                         "partner_id": locked.pk}, now=now)
        transaction.on_commit(lambda: _tell_partner(assignment))
    return assignment


def _tell_partner(assignment: PartnerAssignment) -> None:
    order, partner = assignment.order, assignment.partner
    if not may_message(partner.phone, "sms"):
        return
    text = _("12345 order %(number)s for you: %(title)s") % {"number": order.number,
                                                              "title": order.title}
    if order.address:
        text += _(", at %(address)s") % {"address": order.address}
    if partner_may_know_citizen(order) and order.citizen.phone:
        text += _(". Citizen's phone %(phone)s") % {"phone": order.citizen.phone}
    send_sms(partner.phone, text + ".", purpose="partner")


# --- rating -------------------------------------------------------------------------------

def rating_token(assignment: PartnerAssignment) -> str:
    """The token of the citizen's rating link (signed, names the assignment only)."""
    return signing.dumps(assignment.pk, salt=RATING_SALT, compress=True)


def do_send_rating_link(actor: User, assignment: PartnerAssignment, link: str) -> bool:
    """Send the citizen the link to rate the partner's service (a notice: not to a phone that
    opted out); True when it went. ``link`` is made by the face from ``rating_token``."""
    check_partner_desk(actor)
    phone = assignment.order.citizen.phone
    if not phone or not may_message(assignment.order.citizen, "sms"):
        return False
    text = _("12345: %(partner)s served your request %(number)s. Please rate the service: "
             "%(link)s") % {"partner": assignment.partner.name,
                            "number": assignment.order.number, "link": link}
    return send_sms(phone, f"{text} {OPT_OUT_HINT}", purpose="rating", order=assignment.order).sent


def assignment_for_token(token: str) -> PartnerAssignment:
    try:
        pk = signing.loads(token, salt=RATING_SALT,
                           max_age=dt.timedelta(days=settings.HOTLINE_PARTNER_RATING_DAYS))
    except signing.BadSignature:
        raise NotFound(_("This rating link is not valid or has expired.")) from None
    found = PartnerAssignment.objects.select_related("partner", "order").filter(pk=pk).first()
    if found is None:
        raise NotFound(_("This rating link is not valid or has expired."))
    return found


def do_rate(assignment: PartnerAssignment, satisfaction: str, *, source: RatingSource,
            comment: str = "", actor: User | None = None,
            now: dt.datetime | None = None) -> PartnerRating:
    """The citizen's rating of the partner's service on one order (once per assignment). The
    dissatisfied ratings since the partner's last reinstatement are counted under its row
    lock; reaching the threshold suspends it automatically."""
    now = now or timezone.now()
    if source == RatingSource.STAFF:
        if actor is None:
            raise InvalidInput(_("A rating recorded by staff names who recorded it."))
        check_partner_desk(actor)
    if satisfaction not in Satisfaction.values:
        raise InvalidInput(_("Choose satisfied, basically satisfied or unsatisfied."),
                           "satisfaction")
    order = assignment.order
    with transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=assignment.partner_id)
        try:
            with transaction.atomic():
                rating = PartnerRating.objects.create(
                    assignment=assignment, partner=partner, satisfaction=satisfaction,
                    comment=comment.strip()[:500], source=source, recorded_by=actor,
                    created_at=now)
        except IntegrityError:
            raise Conflict(_("This service has been rated already.")) from None
        do_record_partner_event(order, PartnerEvent.PARTNER_RATE, actor=actor,
                                note=str(Satisfaction(satisfaction).label),
                                data={"partner": partner.name, "partner_id": partner.pk,
                                      "satisfaction": satisfaction, "source": str(source)},
                                now=now)
        if partner.state == PartnerState.ACTIVE and must_suspend(
                dissatisfied_count(partner), settings.HOTLINE_PARTNER_SUSPEND_AFTER):
            _suspend(partner, actor=None, automatic=True, now=now, order=order,
                     reason=_("Rated dissatisfied %(count)s times since %(since)s") % {
                         "count": settings.HOTLINE_PARTNER_SUSPEND_AFTER,
                         "since": timezone.localtime(partner.counting_since).date()})
    return rating


# --- suspension and reinstatement ---------------------------------------------------------

def _suspend(partner: Partner, *, actor: User | None, automatic: bool, reason: str,
             now: dt.datetime, order: Order | None = None) -> PartnerReview:
    """Suspend ``partner`` (row locked by the caller): one conditional UPDATE, one review row,
    and the order whose rating did it gets a history entry."""
    try:
        target = next_partner_state(partner.state, PartnerAction.SUSPEND)
    except PartnerTransitionError:
        raise Conflict(_("This partner is suspended already.")) from None
    if Partner.objects.filter(pk=partner.pk, state=PartnerState.ACTIVE).update(
            state=target) != 1:
        raise Conflict(_("This partner is suspended already."))
    review = PartnerReview.objects.create(
        partner=partner, action=PartnerAction.SUSPEND, from_state=partner.state,
        to_state=target, automatic=automatic, reason=reason[:500], actor=actor, created_at=now)
    partner.state = target
    if order is not None:
        do_record_partner_event(order, PartnerEvent.PARTNER_SUSPEND, actor=actor, note=reason,
                                data={"partner": partner.name, "partner_id": partner.pk,
                                      "automatic": automatic}, now=now)
    return review


def do_suspend(actor: User, partner: Partner, reason: str,
               now: dt.datetime | None = None) -> PartnerReview:
    check_partner_review(actor)
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say why the partner is suspended."), "reason")
    with transaction.atomic():
        locked = Partner.objects.select_for_update().get(pk=partner.pk)
        return _suspend(locked, actor=actor, automatic=False, reason=reason,
                        now=now or timezone.now())


def do_reinstate(actor: User, partner: Partner, reason: str,
                 now: dt.datetime | None = None) -> PartnerReview:
    """The centre's review: the partner takes orders again and its dissatisfied ratings count
    from now on."""
    check_partner_review(actor)
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise InvalidInput(_("Say why the partner is reinstated."), "reason")
    with transaction.atomic():
        locked = Partner.objects.select_for_update().get(pk=partner.pk)
        try:
            target = next_partner_state(locked.state, PartnerAction.REINSTATE)
        except PartnerTransitionError:
            raise Conflict(_("This partner is not suspended.")) from None
        Partner.objects.filter(pk=locked.pk).update(state=target, counting_since=now)
        return PartnerReview.objects.create(
            partner=locked, action=PartnerAction.REINSTATE, from_state=locked.state,
            to_state=target, automatic=False, reason=reason[:500], actor=actor,
            created_at=now)
