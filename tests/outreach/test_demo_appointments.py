"""The demo's appointments and partners load through the real services."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hotline.demo.appointments import load_demo_appointments
from hotline.outreach.models_appointments import BookableService, Booking
from hotline.outreach.models_partners import Partner, PartnerState
from tests.api.conftest import new_order

if TYPE_CHECKING:
    from tests.conftest import City


def test_the_demo_loads_services_bookings_and_one_suspended_partner(city: City) -> None:
    from hotline.directory.models import Unit, UnitKind

    Unit.objects.create(code="hrss", name="市人社局", kind=UnitKind.DEPARTMENT,
                        parent=city.centre)
    for _ in range(7):
        new_order(city)
    message = load_demo_appointments()
    assert BookableService.objects.count() == 2 and Booking.objects.count() >= 2, message
    assert Partner.objects.count() == 3
    assert list(Partner.objects.filter(state=PartnerState.SUSPENDED)
                .values_list("name", flat=True)) == ["快修家电服务部"]
    assert "not loaded" in load_demo_appointments()  # once
