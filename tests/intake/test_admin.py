"""The channels' records in the admin: every list loads for a centre administrator with data in
it, the records are read-only, and an Open311 key is revoked from its list."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hotline.intake.mailbox import Letter
from hotline.intake.mailbox_services import do_receive_letter
from hotline.intake.messages import InboundMessage
from hotline.intake.models import Open311Key, PolledMailbox
from hotline.intake.open311.service import Open311Error, check_key, do_issue_key
from hotline.intake.services import do_receive
from hotline.intake.sms.outbound import send_sms

pytestmark = pytest.mark.django_db

MODELS = ["receivedmessage", "mailboxletter", "outboundmail", "smsmessage", "smsoptout",
          "open311key", "polledmailbox"]


@pytest.fixture
def admin_client(client: Client, city: Any) -> Client:
    city.admin.is_staff = True
    city.admin.save()
    client.force_login(city.admin)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_the_channels_records_are_listed_read_only(admin_client: Client, city: Any,
                                                  settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    receipt = do_receive(InboundMessage(channel="sms", text="路灯坏了", sender_phone="13800001111",
                                        message_id="a1", raw=b"x"))
    send_sms("13800001111", "已受理", purpose="accepted")
    do_issue_key("app")
    PolledMailbox.objects.create(account="12345@mail.example.org:993/INBOX", uidvalidity=7,
                                 last_uid=42, error="login refused")
    do_receive_letter(Letter(title="路灯", text="路灯坏了", phone="13800001111", publish=True),
                      received_at=timezone.now(), submission_id="letter-1")
    for model in MODELS:
        assert admin_client.get(reverse(f"admin:intake_{model}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:intake_{model}_add")).status_code == 403, model
    change = reverse("admin:intake_receivedmessage_change", args=[receipt.record_id])
    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {"reason": "edited"}).status_code == 403
    assert admin_client.get(reverse("admin:intake_receivedmessage_changelist"),
                            {"q": receipt.order_number}).status_code == 200


def test_an_open311_key_is_revoked_from_its_list(admin_client: Client, city: Any) -> None:
    row, key = do_issue_key("app")
    assert check_key(key) == row
    response = admin_client.post(reverse("admin:intake_open311key_changelist"),
                                 {"action": "revoke", "_selected_action": [row.pk]})
    assert response.status_code == 302
    assert Open311Key.objects.get().revoked_at is not None
    with pytest.raises(Open311Error):
        check_key(key)


def test_others_do_not_see_the_channels(client: Client, city: Any) -> None:
    city.agent.is_staff = True
    city.agent.save()
    client.force_login(city.agent)
    assert client.get(reverse("admin:intake_smsmessage_changelist")).status_code in (302, 403)
