"""Finding 11 of issue 10: every access to personal data is in an append-only log (who, when,
which citizen or order, from where), kept at least 180 days and purged after the retention."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.base import ContentFile
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from hotline.contactcentre.models import QueuedCall, ScheduledCallback
from hotline.env import ConfigError, env_int_at_least
from hotline.orders import access_log
from hotline.orders.models import AccessKind, AccessLog, Attachment, ImmutableError, Order
from hotline.orders.services import NewOrder, do_action, do_create_order
from tests.contactcentre import conftest as desk_conftest
from tests.desk import test_desk_views as desk_fixtures

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings

    from tests.conftest import City

# The desk's call fixtures (pytest finds fixtures as names of this module).
desk = desk_conftest.desk
offered = desk_fixtures.offered
phones = desk_fixtures.phones

ADDRESS = "10.20.30.40"
PHONE = "13812341234"
NAME = "张三"
ROOT = Path(__file__).resolve().parents[2]


def client_for(user: Any) -> Client:
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(user)
    return client


def make_order(city: Any, **extra: Any) -> Order:
    data: dict[str, Any] = dict(type="complaint", channel="phone", title="停水三天",
                                text="鼓楼区某小区停水三天", citizen_phone=PHONE,
                                citizen_name=NAME, district="gulou", category="100101")
    data.update(extra)
    order, _ = do_create_order(city.agent, NewOrder(**data))
    return do_action(city.agent, order.number, "dispatch")


def only_entry() -> AccessLog:
    entries = list(AccessLog.objects.all())
    assert len(entries) == 1, [(e.kind, e.username, e.detail) for e in entries]
    return entries[0]


def assert_entry(entry: AccessLog, user: Any, kind: str, order: Order | None, path: str) -> None:
    assert entry.user_id == user.pk and entry.username == user.username
    assert entry.role == user.role
    assert entry.kind == kind
    if order is not None:
        assert entry.order_id == order.pk and entry.order_number == order.number
        assert entry.citizen_id == order.citizen_id
    assert entry.address == ADDRESS
    assert entry.path.startswith(path)
    assert abs((timezone.now() - entry.at).total_seconds()) < 60


# --- unmasked citizens ---------------------------------------------------------------------

@pytest.mark.parametrize("who", ["agent", "monitor", "admin", "handler"])
def test_the_order_page_showing_the_citizen_in_full_writes_one_entry(city: City, who: str) -> None:
    order = make_order(city)
    user = getattr(city, who)
    page = client_for(user).get(f"/orders/{order.number}/")
    assert page.status_code == 200 and PHONE in page.content.decode()
    assert_entry(only_entry(), user, AccessKind.CITIZEN_VIEW, order, f"/orders/{order.number}/")


@pytest.mark.parametrize("who", ["leader", "auditor"])
def test_a_masked_order_page_writes_nothing(city: City, who: str) -> None:
    order = make_order(city)
    page = client_for(getattr(city, who)).get(f"/orders/{order.number}/")
    assert page.status_code == 200 and PHONE not in page.content.decode()
    assert not AccessLog.objects.exists()


def test_a_confidential_citizen_hidden_from_the_department_writes_nothing(city: City) -> None:
    order = make_order(city, confidential=True)
    page = client_for(city.handler).get(f"/orders/{order.number}/")
    assert page.status_code == 200 and PHONE not in page.content.decode()
    assert not AccessLog.objects.exists()


def test_the_api_order_detail_logs_the_unmasked_citizen_and_not_the_masked_one(city: City) -> None:
    order = make_order(city)
    answer = client_for(city.leader).get(f"/api/v1/orders/{order.number}")
    assert answer.status_code == 200 and answer.json()["citizen"]["phone"] != PHONE
    assert not AccessLog.objects.exists()
    answer = client_for(city.agent).get(f"/api/v1/orders/{order.number}")
    assert answer.status_code == 200 and answer.json()["citizen"]["phone"] == PHONE
    assert_entry(only_entry(), city.agent, AccessKind.CITIZEN_VIEW, order,
                 f"/api/v1/orders/{order.number}")


def test_an_api_action_answering_with_the_citizen_is_logged(city: City) -> None:
    order = make_order(city)
    answer = client_for(city.handler).post(f"/api/v1/orders/{order.number}/sign",
                                           "{}", content_type="application/json")
    assert answer.status_code == 200 and answer.json()["citizen"]["phone"] == PHONE
    entry = only_entry()
    assert_entry(entry, city.handler, AccessKind.CITIZEN_VIEW, order, "/api/v1/orders/")
    assert entry.detail == "after sign"


def test_the_screen_pop_logs_the_callers_number_for_the_agent(offered: QueuedCall, phones: Any) -> None:
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(phones.agent)
    pop = client.get(f"/desk/calls/{offered.pk}/pop/")
    assert pop.status_code == 200 and desk_fixtures.CALLER in pop.content.decode()
    entry = only_entry()
    assert_entry(entry, phones.agent, AccessKind.CITIZEN_VIEW, None, "/desk/calls/")
    assert entry.citizen is not None and entry.citizen.phone == desk_fixtures.CALLER
    assert entry.detail == f"screen pop of call {offered.pk}"


def test_the_prefilled_order_form_of_a_call_is_logged(offered: QueuedCall, phones: Any) -> None:
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(phones.agent)
    assert client.get(f"/desk/calls/{offered.pk}/form/").status_code == 200
    assert only_entry().detail == f"order form of call {offered.pk}"


def test_the_desk_call_back_list_logs_each_number_shown(phones: Any) -> None:
    order = make_order(phones)
    callback = ScheduledCallback.objects.create(
        order=order, phone=PHONE, due_at=timezone.now(), created_by=phones.agent,
        created_at=timezone.now())
    client = Client(REMOTE_ADDR=ADDRESS)
    client.force_login(phones.agent)
    page = client.get("/desk/callbacks/")
    assert page.status_code == 200 and PHONE in page.content.decode()
    entry = only_entry()
    assert_entry(entry, phones.agent, AccessKind.CITIZEN_VIEW, order, "/desk/callbacks/")
    assert entry.detail == f"call back list #{callback.pk}"


def superuser(city: Any) -> Any:
    admin = city.admin
    admin.is_staff = admin.is_superuser = True
    admin.save()
    return admin


@pytest.mark.parametrize("page", ["citizen", "order", "contact"])
def test_each_admin_page_showing_a_citizen_is_logged(city: City, page: str) -> None:
    from hotline.orders.contacts import NewContact, do_record_contact

    order = make_order(city)
    contact = do_record_contact(city.agent, NewContact(channel="phone", citizen_phone=PHONE))
    obj = {"citizen": order.citizen, "order": order, "contact": contact}[page]
    answer = client_for(superuser(city)).get(f"/admin/orders/{page}/{obj.pk}/change/")
    assert answer.status_code == 200
    entry = only_entry()
    assert entry.kind == AccessKind.CITIZEN_VIEW and entry.citizen_id == order.citizen_id
    assert entry.detail == f"admin: {page} {obj.pk}" and entry.address == ADDRESS
    assert entry.order_number == (order.number if page == "order" else "")


@pytest.mark.parametrize("page,logged", [("citizen", True), ("contact", True), ("order", False)])
def test_admin_lists_with_citizens_are_logged(city: City, page: str, logged: bool) -> None:
    make_order(city)
    assert client_for(superuser(city)).get(f"/admin/orders/{page}/").status_code == 200
    details = list(AccessLog.objects.values_list("detail", flat=True))
    assert details == ([f"admin: {page} list"] if logged else [])


# --- files and recordings ------------------------------------------------------------------

def attach(order: Order, kind: str, name: str = "call.wav") -> Attachment:
    attachment = Attachment(order=order, kind=kind, name=name, content_type="audio/wav",
                            size=4, sha256="0" * 64, created_at=timezone.now())
    attachment.file.save(f"test-{kind}.wav", ContentFile(b"RIFF"), save=True)
    return attachment


@pytest.mark.parametrize("kind,query,logged,inline", [
    (Attachment.Kind.RECORDING, "", AccessKind.RECORDING_DOWNLOAD, False),
    (Attachment.Kind.RECORDING, "?play=1", AccessKind.RECORDING_PLAY, True),
    (Attachment.Kind.INTAKE, "", AccessKind.ATTACHMENT_DOWNLOAD, False),
    (Attachment.Kind.INTAKE, "?play=1", AccessKind.ATTACHMENT_DOWNLOAD, False),
])
def test_each_file_served_on_the_order_page_writes_one_entry(city: City, kind: str, query: str,
                                                             logged: str, inline: bool) -> None:
    order = make_order(city)
    attachment = attach(order, kind)
    path = f"/orders/{order.number}/files/{attachment.pk}/"
    answer = client_for(city.leader).get(path + query)  # the leader sees the citizen masked
    assert answer.status_code == 200 and answer.getvalue() == b"RIFF"
    assert answer["Content-Disposition"].startswith("inline" if inline else "attachment")
    entry = only_entry()
    assert_entry(entry, city.leader, logged, order, path)
    assert entry.detail == f"#{attachment.pk} call.wav"


def test_a_recording_downloaded_over_the_api_writes_one_entry(city: City) -> None:
    order = make_order(city)
    attachment = attach(order, Attachment.Kind.RECORDING)
    path = f"/api/v1/orders/{order.number}/attachments/{attachment.pk}"
    answer = client_for(city.auditor).get(path)
    assert answer.status_code == 200
    assert_entry(only_entry(), city.auditor, AccessKind.RECORDING_DOWNLOAD, order, path)


def test_a_file_not_served_is_not_logged(city: City) -> None:
    order = make_order(city, confidential=True)
    attachment = attach(order, Attachment.Kind.RECORDING)  # hidden from the department
    answer = client_for(city.handler).get(f"/orders/{order.number}/files/{attachment.pk}/")
    assert answer.status_code == 404
    assert not AccessLog.objects.exists()


def test_the_knowledge_export_is_logged(city: City) -> None:
    from hotline.core.roles import Role

    reviewer = city.admin  # the centre administrator reviews knowledge entries
    assert reviewer.role == Role.CENTRE_ADMIN
    answer = client_for(reviewer).get("/knowledge/export.xlsx")
    assert answer.status_code == 200
    entry = only_entry()
    assert entry.kind == AccessKind.EXPORT and entry.detail.startswith("knowledge entries")
    assert entry.address == ADDRESS


def test_an_access_that_cannot_be_logged_is_not_served(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    order = make_order(city)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(AccessLog.objects, "create", broken)
    client = client_for(city.agent)
    client.raise_request_exception = False
    answer = client.get(f"/orders/{order.number}/")
    assert answer.status_code == 500 and PHONE not in answer.content.decode()


# --- append-only in the database -----------------------------------------------------------

def entry_at(city: Any, days_ago: float) -> AccessLog:
    return access_log.do_log_access(city.agent, AccessKind.CITIZEN_VIEW,
                                    now=timezone.now() - dt.timedelta(days=days_ago))


def test_the_database_refuses_to_change_an_entry(city: City) -> None:
    entry = entry_at(city, 1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).update(detail="nothing to see")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE orders_accesslog SET username = 'someone' WHERE id = %s",
                       [entry.pk])
    with pytest.raises(ImmutableError):
        entry.save()
    assert AccessLog.objects.get(pk=entry.pk).detail == ""


@pytest.mark.parametrize("days_ago", [0, 100, 179])
def test_the_database_refuses_to_delete_an_entry_younger_than_180_days(city: City, days_ago: int) -> None:
    entry = entry_at(city, days_ago)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM orders_accesslog")
    with pytest.raises(ImmutableError):
        entry.delete()
    assert AccessLog.objects.filter(pk=entry.pk).exists()


def test_the_purge_keeps_the_last_180_days(city: City) -> None:
    old = entry_at(city, 200)
    kept = [entry_at(city, 170), entry_at(city, 1)]
    assert access_log.do_purge_access_log() == 1
    assert not AccessLog.objects.filter(pk=old.pk).exists()
    assert set(AccessLog.objects.values_list("pk", flat=True)) == {e.pk for e in kept}


def test_a_longer_retention_keeps_more(city: City, settings: Settings) -> None:
    settings.HOTLINE_ACCESS_LOG_RETENTION_DAYS = 365
    entry_at(city, 200)
    gone = entry_at(city, 400)
    assert access_log.do_purge_access_log() == 1
    assert not AccessLog.objects.filter(pk=gone.pk).exists()
    assert AccessLog.objects.count() == 1


def test_a_purge_told_a_wrong_date_still_cannot_delete_recent_entries(city: City) -> None:
    entry_at(city, 10)
    with pytest.raises(DatabaseError), transaction.atomic():
        access_log.do_purge_access_log(now=timezone.now() + dt.timedelta(days=365))
    assert AccessLog.objects.count() == 1


def test_the_purge_task_runs(city: City) -> None:
    from hotline.orders.tasks import purge_access_log_task

    entry_at(city, 300)
    result = purge_access_log_task.enqueue()  # the immediate backend in tests
    assert result.return_value == 1
    assert not AccessLog.objects.exists()


# --- retention setting ---------------------------------------------------------------------

def test_the_retention_helper_refuses_less_than_the_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ACCESS_LOG_RETENTION_DAYS", "179")
    with pytest.raises(ConfigError, match="below the minimum of 180"):
        env_int_at_least("HOTLINE_ACCESS_LOG_RETENTION_DAYS", 180, 180)
    monkeypatch.setenv("HOTLINE_ACCESS_LOG_RETENTION_DAYS", "400")
    assert env_int_at_least("HOTLINE_ACCESS_LOG_RETENTION_DAYS", 180, 180) == 400
    monkeypatch.delenv("HOTLINE_ACCESS_LOG_RETENTION_DAYS")
    assert env_int_at_least("HOTLINE_ACCESS_LOG_RETENTION_DAYS", 180, 180) == 180


def _load_settings(value: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOTLINE_ACCESS_LOG_RETENTION_DAYS": value,
           "DJANGO_SETTINGS_MODULE": "hotline.settings_test"}
    code = "import django; django.setup(); from django.conf import settings; " \
           "print(settings.HOTLINE_ACCESS_LOG_RETENTION_DAYS)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_settings_refuse_a_retention_under_180_days() -> None:
    refused = _load_settings("90")
    assert refused.returncode != 0
    assert "HOTLINE_ACCESS_LOG_RETENTION_DAYS=90 is below the minimum of 180" in refused.stderr
    accepted = _load_settings("365")
    assert accepted.returncode == 0, accepted.stderr
    assert accepted.stdout.strip().splitlines()[-1] == "365"


def test_the_retention_is_in_the_example_environment() -> None:
    assert "HOTLINE_ACCESS_LOG_RETENTION_DAYS=180" in (ROOT / ".env.example").read_text()
