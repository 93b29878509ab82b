"""The hotline numbers in the admin: each row counts its last 30 days of contacts (one query)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from hotline.contactcentre.models import ServiceNumber
from hotline.orders.contacts import NewContact, do_record_contact

pytestmark = pytest.mark.django_db


def test_the_list_counts_recent_contacts_per_number(city: Any) -> None:
    ServiceNumber.objects.create(number="96510", name="原市供水服务热线")
    ServiceNumber.objects.create(number="96150", name="原市企业服务热线")
    for days in (1, 2, 40):
        do_record_contact(city.agent, NewContact(
            channel="phone", called_number="96510",
            occurred_at=timezone.now() - dt.timedelta(days=days)))
    city.admin.is_staff = True
    city.admin.save()
    client = Client()
    client.force_login(city.admin)
    page = client.get("/admin/contactcentre/servicenumber/")
    assert page.status_code == 200
    rows = {line.number: line.recent_contacts
            for line in page.context["cl"].result_list}
    assert rows == {"96510": 2, "96150": 0}
