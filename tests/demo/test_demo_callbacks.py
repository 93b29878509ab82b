"""The demo's call-back work: return visits for orders in 待回访 and missed calls, made once."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.demo.callbacks import load_demo_callbacks
from hotline.outreach.models_callbacks import CallbackTask, TaskKind
from tests.contactcentre.conftest import desk  # noqa: F401 - fixture used by name
from tests.outreach.callback_policy import agents_call_back  # noqa: F401 - autouse
from tests.outreach.conftest import order_in_callback

pytestmark = pytest.mark.django_db


def test_the_demo_lists_visits_and_one_task_per_missed_number(desk: Any) -> None:  # noqa: F811
    order_in_callback(desk)
    said = load_demo_callbacks()
    assert "1 return visits" in said
    assert CallbackTask.objects.filter(kind=TaskKind.VISIT).count() == 1
    missed = CallbackTask.objects.filter(kind=TaskKind.MISSED)
    assert sorted(missed.values_list("phone", flat=True)) == [
        "13800000101", "13800000102", "13800000103"]
    assert missed.get(phone="13800000101").missed_calls.count() == 2
