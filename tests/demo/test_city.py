from __future__ import annotations

import io
import random
from typing import TYPE_CHECKING

from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from hotline.core.roles import Role
from hotline.demo import city as demo
from hotline.demo.data import org
from hotline.demo.data.stories import CLOSED, _story
from hotline.directory.models import Category, CategoryRoute, District, Unit, UnitKind, User
from hotline.orders.history import verify_order
from hotline.orders.models import Order, OrderEvent, OrderState

if TYPE_CHECKING:
    pass
    from pytest_django.fixtures import Settings


def counts() -> dict[str, int]:
    return {"units": Unit.objects.count(), "categories": Category.objects.count(),
            "routes": CategoryRoute.objects.count(), "users": User.objects.count(),
            "orders": Order.objects.count(), "events": OrderEvent.objects.count()}


def test_load_demo_builds_a_city_with_orders_in_every_state(db: None) -> None:
    out = io.StringIO()
    call_command("load_demo", "--orders", "30", stdout=out)
    assert "demo city loaded: 30 orders" in out.getvalue()
    # directory
    assert District.objects.count() == len(org.DISTRICTS) == 6
    kinds = dict(Unit.objects.values_list("kind").annotate(n=Count("id")))
    assert kinds[UnitKind.CENTRE] == 1 and kinds[UnitKind.SUBCENTRE] == 6
    assert kinds[UnitKind.DEPARTMENT] == len(org.DEPARTMENTS) >= 20
    assert 12 <= kinds[UnitKind.STREET] <= 18
    assert Category.objects.count() >= 60
    assert set(Category.objects.values_list("level", flat=True)) == {1, 2, 3}
    leaves = Category.objects.filter(level=3)
    assert all(c.routes.filter(district__isnull=True).exists() for c in leaves)
    assert CategoryRoute.objects.filter(lead_unit__kind=UnitKind.SUBCENTRE).exists()
    assert CategoryRoute.objects.filter(co_units__isnull=False).exists()
    outage = Category.objects.get(name="停水")
    assert outage.handle_limit_days is not None
    assert outage.urgent_handle_limit_hours is not None and outage.handle_limit_days <= 3
    # staff: every role, and the password works
    roles = dict(User.objects.values_list("role").annotate(n=Count("id")))
    assert set(roles) == set(Role.values)
    assert roles[Role.DEPT_HANDLER] >= 20 and roles[Role.DEPT_ADMIN] >= 3
    admin = User.objects.get(username="centreadmin")
    assert admin.is_staff and admin.check_password(demo.DEFAULT_PASSWORD)
    logins = demo.demo_logins()
    assert ("agent1", str(Role.AGENT.label), org.CENTRE[1]) in logins
    assert {row[0] for row in logins} >= {"water_handler", "gulou_agent", "leader", "auditor"}
    # orders: every state, real histories
    assert Order.objects.count() == 30
    states = set(Order.objects.values_list("state", flat=True))
    assert states == set(OrderState.values)
    closed = Order.objects.filter(state="closed", answered_directly=False)
    assert set(closed.values_list("satisfaction", flat=True)) >= {"satisfied", "basic",
                                                                 "unsatisfied"}
    assert Order.objects.filter(state="closed", answered_directly=True).exists()
    assert Order.objects.filter(overdue_at__isnull=False).exists()
    assert Order.objects.filter(extension_pending_days__isnull=False).exists()
    assert not Order.objects.filter(type="report", confidential=False).exists()
    now = timezone.now()
    oldest = Order.objects.order_by("created_at").first()
    assert oldest is not None and (now - oldest.created_at).days < 91
    ids_by_time = list(Order.objects.order_by("created_at").values_list("pk", flat=True))
    assert ids_by_time == sorted(ids_by_time)  # created in time order
    for order in Order.objects.all():
        assert verify_order(order) == []
        times = list(order.events.order_by("seq").values_list("created_at", flat=True))
        assert times == sorted(times) and times[-1] <= now
    for merged in Order.objects.filter(state="merged"):
        assert merged.merged_into is not None
    # a second run adds nothing
    before = counts()
    out = io.StringIO()
    call_command("load_demo", "--orders", "30", stdout=out)
    assert "already" in out.getvalue()
    assert counts() == before


def test_password_from_environment_and_no_orders(db: None, settings: Settings) -> None:
    settings.HOTLINE_DEMO_PASSWORD = "another-secret"
    result = demo.load_demo(orders=0)
    assert result.loaded and Order.objects.count() == 0
    user = User.objects.get(username="water_handler")
    assert user.check_password("another-secret") and not user.check_password("demo12345")
    assert user.unit is not None
    assert user.unit.name == "市水务局" and not user.is_staff


def test_demo_logins_empty_without_demo(db: None) -> None:
    assert demo.demo_logins() == []


def test_stories_are_reproducible() -> None:
    first = _story(random.Random(7), CLOSED, False, [], False, True)
    again = _story(random.Random(7), CLOSED, False, [], False, True)
    assert [(s.actor, s.action, s.hours) for s in first] == [
        (s.actor, s.action, s.hours) for s in again]
    assert first[0].action == "dispatch" and first[-1].action == "callback"
