"""The desk's tables move to the contact centre without losing a row (issue 11).

A database is migrated back to before the move (desk/0005, no contactcentre), rows are written
into the old desk_* tables through the historical models, and the database is migrated forward
again: every row is in the contact centre's models, the content types (and so the permissions
granted on them) moved with them, and the state log still refuses UPDATE and DELETE in the
database itself, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from hotline.contactcentre import models as cc
from hotline.directory.models import User
from hotline.orders.contacts import NewContact, do_record_contact
from hotline.orders.models import Channel

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("desk", "0005_scheduled_callbacks"), ("contactcentre", None)]
T = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MOVED = ["Queue", "Skill", "QueuedCall", "DeskEvent", "CallRecording", "CallCommand",
         "ScheduledCallback", "SipExtension", "AgentStatus", "QueueSkill", "AgentSkill",
         "StateChange", "OverflowRule"]


def _migrate(targets: list[tuple[str, str | None]]) -> Any:
    """Migrate to ``targets``; the historical apps of the desk at that point."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([(app, name) for app, name in targets if name is not None]).apps


def _leaves() -> list[tuple[str, str | None]]:
    return list(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _tables() -> set[str]:
    return set(connection.introspection.table_names())


@pytest.fixture
def before_the_move() -> Iterator[Any]:
    """The historical apps of the database before the move; migrated forward again afterwards
    whatever the test did, so the next test finds the current schema."""
    try:
        yield _migrate(BEFORE)
    finally:
        _migrate(_leaves())
        ContentType.objects.clear_cache()


def _write_old_rows(apps: Any, agent: User, actor: User, contact_id: int, order_id: int) -> None:
    get = lambda name: apps.get_model("desk", name)  # noqa: E731 - a short local alias
    skill = get("Skill").objects.create(code="lang-test", name="测试语", kind="language")
    queue = get("Queue").objects.create(code="general", name="综合")
    spill = get("Queue").objects.create(code="spill", name="溢出")
    get("QueueSkill").objects.create(queue=queue, skill=skill, min_level=2)
    get("OverflowRule").objects.create(queue=queue, after_s=60, action="queue",
                                       target_queue=spill)
    get("AgentSkill").objects.create(agent_id=agent.pk, skill=skill, level=7)
    extension = get("SipExtension").objects.create(number="8001", agent_id=agent.pk,
                                                   ha1_md5="0" * 32)
    call = get("QueuedCall").objects.create(
        call_ref="sip-1", queue=queue, caller="13800000001", outcome="talking", queued_at=T,
        entered_at=T, answered_at=T, agent_id=agent.pk, contact_id=contact_id, gateway="gw-1")
    get("AgentStatus").objects.create(agent_id=agent.pk, state="talking", since=T, call=call,
                                      extension=extension)
    for action, before, after in (("sign_in", "signed_out", "signed_in"),
                                  ("ready", "signed_in", "idle"),
                                  ("offer", "idle", "ringing"),
                                  ("answer", "ringing", "talking")):
        get("StateChange").objects.create(agent_id=agent.pk, at=T, action=action,
                                          from_state=before, to_state=after, call=call)
    get("DeskEvent").objects.create(at=T, kind="call_answered", agent_id=agent.pk, call=call,
                                    payload={"queue": "general"})
    get("CallCommand").objects.create(call=call, gateway="gw-1", action="hold",
                                      issued_by_id=agent.pk, created_at=T)
    get("CallRecording").objects.create(contact_id=contact_id, call=call,
                                        file="calls/2026/03/02/a.wav", seconds=3.5, size=100,
                                        sha256="a" * 64, created_at=T)
    get("ScheduledCallback").objects.create(order_id=order_id, contact_id=contact_id,
                                            phone="13800000001", due_at=T, created_by_id=actor.pk,
                                            created_at=T)


def test_rows_permissions_and_the_append_only_guard_survive_the_move(
        city: Any, before_the_move: Any) -> None:
    from hotline.orders.services import NewOrder, do_create_order

    apps = before_the_move
    assert "desk_statechange" in _tables() and "contactcentre_statechange" not in _tables()
    agent, actor = city.agent, city.monitor
    # The world outside the moved tables is untouched by the move: made with today's models.
    contact = do_record_contact(actor, NewContact(channel=Channel.PHONE, summary="call",
                                                  citizen_phone="13800000001"))
    order, _ = do_create_order(actor, NewOrder(type="complaint", channel=Channel.PHONE,
                                               title="停水", text="三天没水",
                                               citizen_phone="13800000001"))
    _write_old_rows(apps, agent, actor, contact.pk, order.pk)
    counts = {name: apps.get_model("desk", name).objects.count() for name in MOVED}
    # A permission granted on a desk model before the move (and so an admin log entry's
    # content type) must still mean the same model afterwards.
    old_type = ContentType.objects.get_or_create(app_label="desk", model="queuedcall")[0]
    permission = Permission.objects.get_or_create(
        content_type=old_type, codename="view_queuedcall",
        defaults={"name": "Can view queued call"})[0]
    agent.user_permissions.add(permission)

    _migrate(_leaves())
    ContentType.objects.clear_cache()

    tables = _tables()
    assert "contactcentre_statechange" in tables
    assert not {t for t in tables if t.startswith("desk_")}, "desk tables left behind"
    for name in MOVED:
        assert getattr(cc, name).objects.count() == counts[name], name
    call = cc.QueuedCall.objects.get(call_ref="sip-1")
    assert call.queue.code == "general" and call.contact_id == contact.pk
    assert call.agent_id == agent.pk and call.gateway == "gw-1"
    status = cc.AgentStatus.objects.get(pk=agent.pk)
    assert status.call_id == call.pk and status.extension is not None
    assert status.extension.number == "8001"
    assert [c.action for c in cc.StateChange.objects.filter(agent=agent)] == [
        "sign_in", "ready", "offer", "answer"]
    assert cc.OverflowRule.objects.get().target_queue is not None
    assert cc.CallRecording.objects.get().contact_id == contact.pk
    assert cc.ScheduledCallback.objects.get().order_id == order.pk
    # New rows continue after the old ids (the sequences moved with the tables).
    newer = cc.Queue.objects.create(code="newer", name="新队列")
    assert newer.pk > cc.Queue.objects.get(code="spill").pk

    moved_type = ContentType.objects.get(pk=old_type.pk)
    assert (moved_type.app_label, moved_type.model) == ("contactcentre", "queuedcall")
    assert not ContentType.objects.filter(app_label="desk", model="queuedcall").exists()
    assert User.objects.get(pk=agent.pk).has_perm("contactcentre.view_queuedcall")

    change = cc.StateChange.objects.filter(agent=agent).first()
    assert change is not None
    for sql in ("UPDATE contactcentre_statechange SET reason = 'meal' WHERE id = %s",
                "DELETE FROM contactcentre_statechange WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute(sql, [change.pk])
    assert cc.StateChange.objects.filter(agent=agent).count() == 4
    assert cc.StateChange.objects.get(pk=change.pk).reason == ""


def test_the_guard_holds_on_the_desk_table_after_going_back(
        city: Any, before_the_move: Any) -> None:
    """Going back restores desk/0003's triggers on desk_statechange (the move is reversible)."""
    apps = before_the_move
    agent = city.agent
    change = apps.get_model("desk", "StateChange").objects.create(
        agent_id=agent.pk, at=T, action="sign_in", from_state="signed_out",
        to_state="signed_in")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
            connection.cursor() as cursor:
        cursor.execute("UPDATE desk_statechange SET reason = 'meal' WHERE id = %s", [change.pk])
