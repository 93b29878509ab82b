"""The centre administrator sets the call-back rules in the admin (one row, the services read
it); the tasks are shown there read-only and without the citizen's number."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hotline.outreach import callbacks
from hotline.outreach.models_callbacks import CallbackRules, CallbackTask, UnreachableRule
from tests.outreach.callback_policy import agents_call_back  # noqa: F401 - autouse
from tests.outreach.conftest import order_in_callback

pytestmark = pytest.mark.django_db


def staff(city: Any) -> Client:
    city.admin.is_staff = city.admin.is_superuser = True
    city.admin.save()
    client = Client()
    client.force_login(city.admin)
    return client


def test_the_rules_are_one_row_the_services_read(city: Any) -> None:
    client = staff(city)
    assert callbacks.current_rules().max_tries == 3  # the defaults before anything is saved
    r = client.post("/admin/outreach/callbackrules/add/", {
        "visit_hours": 4, "max_tries": 5, "retry_minutes": 20,
        "unreachable_rule": UnreachableRule.CLOSE, "missed_within_minutes": 15,
        "missed_min_wait_s": 5, "missed_lookback_hours": 12, "after_hours_voicemail": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]
    rules = callbacks.current_rules()
    assert (rules.pk, rules.max_tries, rules.unreachable_rule) == (1, 5, UnreachableRule.CLOSE)
    assert client.get("/admin/outreach/callbackrules/add/").status_code == 403  # one row
    assert CallbackRules.objects.count() == 1


def test_tasks_are_shown_without_the_number(city: Any) -> None:
    order_in_callback(city)
    callbacks.do_queue_visits()
    task = CallbackTask.objects.get()
    r = staff(city).get(f"/admin/outreach/callbacktask/{task.pk}/change/")
    assert r.status_code == 200 and b"13812341234" not in r.content
