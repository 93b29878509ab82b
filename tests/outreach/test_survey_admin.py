"""The centre edits the survey policy, the notification templates and the citizens'
preferences in the admin; the surveys are read only; pages that show a citizen are written to
the access log; a bad policy or template is refused with a message, not a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from hotline.orders.models import AccessLog
from hotline.outreach import surveys
from hotline.outreach.models import ContactPreference, NoticeTemplate, SurveyPolicy
from tests.outreach.test_surveys import answered_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client, city: Any) -> Client:
    city.admin.is_staff = True
    city.admin.save()
    client.force_login(city.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_every_list_and_record_opens(admin_client: Client, city: Any, settings: Any) -> None:
    settings.HOTLINE_SMS_PROVIDER = "log"
    settings.HOTLINE_OUTREACH_QUIET_START = settings.HOTLINE_OUTREACH_QUIET_END  # any hour
    order = answered_order(city)
    survey = surveys.start_survey(order)
    assert survey is not None
    pref = ContactPreference.objects.create(citizen=order.citizen, language="en")
    template = seeded("closed", "sms", "en")
    for model, pk in (("surveypolicy", None), ("noticetemplate", template.pk),
                      ("contactpreference", pref.pk), ("survey", survey.pk)):
        listing = admin_client.get(reverse(f"admin:outreach_{model}_changelist"))
        assert listing.status_code == 200, model
        if pk is not None:
            page = admin_client.get(reverse(f"admin:outreach_{model}_change", args=[pk]))
            assert page.status_code == 200, model
    page = admin_client.get(reverse("admin:outreach_survey_change", args=[survey.pk]))
    assert survey.token not in page.content.decode()  # the citizen's proof is never shown
    assert admin_client.get(reverse("admin:outreach_survey_add")).status_code == 403
    details = set(AccessLog.objects.values_list("detail", flat=True))
    assert f"admin: contactpreference {pref.pk}" in details
    assert f"admin: survey {survey.pk}" in details and "admin: contactpreference list" in details


def seeded(event: str, channel: str, language: str) -> NoticeTemplate:
    """The migration's row (made again when a transactional test flushed the tables)."""
    return NoticeTemplate.objects.get_or_create(event=event, channel=channel,
                                                language=language,
                                                defaults={"body": "{number}"})[0]


def test_the_migration_seeds_every_event_channel_and_language_once() -> None:
    from importlib import import_module

    from django.apps import apps

    seed = import_module("hotline.outreach.migrations.0003_surveys").seed_templates
    seed(apps, None)
    seed(apps, None)
    assert NoticeTemplate.objects.count() == 5 * 2 * 2


def test_a_bad_policy_or_template_is_refused_with_a_message(admin_client: Client) -> None:
    add = reverse("admin:outreach_surveypolicy_add")
    r = admin_client.post(add, {"order_type": "report", "methods": "agent,sms",
                                "sms_wait_hours": "24"})
    assert r.status_code == 200 and b"agent call back can only be the last" in r.content
    r = admin_client.post(add, {"order_type": "report", "methods": "sms,agent",
                                "sms_wait_hours": "24"})
    assert r.status_code == 302 and SurveyPolicy.objects.get().methods == "sms,agent"
    template = seeded("closed", "sms", "en")
    change = reverse("admin:outreach_noticetemplate_change", args=[template.pk])
    r = admin_client.post(change, {"event": "closed", "channel": "sms", "language": "en",
                                   "subject": "", "body": "{number} {secret}",
                                   "is_active": "on"})
    assert r.status_code == 200 and b"unknown field {secret}" in r.content
    r = admin_client.post(change, {"event": "closed", "channel": "sms", "language": "en",
                                   "subject": "", "body": "Closed: {number}", "is_active": "on"})
    assert r.status_code == 302
    template.refresh_from_db()
    assert template.body == "Closed: {number}"


def test_a_staff_change_of_a_preference_is_recorded_with_who_and_when(
        admin_client: Client, city: Any) -> None:
    from hotline.orders.models import Citizen
    from hotline.outreach.models import PreferenceChange

    citizen = Citizen.objects.create(phone="13800001111")
    pref = ContactPreference.objects.create(citizen=citizen)
    r = admin_client.post(reverse("admin:outreach_contactpreference_change", args=[pref.pk]),
                          {"citizen": citizen.pk, "channel": "sms", "language": "en",
                           "notices": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]
    change = PreferenceChange.objects.get()
    assert (change.via, change.actor, change.citizen) == ("staff", city.admin, citizen)
    assert change.before["campaigns"] is True and change.after["campaigns"] is False
    assert listing_opens(admin_client)


def listing_opens(client: Client) -> bool:
    return client.get(reverse("admin:outreach_preferencechange_changelist")).status_code == 200
