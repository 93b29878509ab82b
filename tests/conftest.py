"""Shared fixtures: a small city with named users for every role (like healthchecks' alice and
bob), so each test says who acts: ``agent`` (centre agent), ``handler`` (water department)..."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.test.client import ClientMixin

from hotline.core.roles import Role
from hotline.directory.models import Category, CategoryRoute, District, Unit, UnitKind, User

if TYPE_CHECKING:
    from collections.abc import Iterator


class City:
    """Handles to the fixture city's objects."""

    gulou: District
    taijiang: District
    centre: Unit
    subcentre: Unit
    street: Unit
    water: Unit
    housing: Unit
    env: Unit
    cat_utilities: Category
    cat_water: Category
    cat_outage: Category
    cat_noise: Category
    agent: User
    monitor: User
    admin: User
    handler: User
    dept_admin: User
    housing_handler: User
    env_handler: User
    sub_agent: User
    street_handler: User
    leader: User
    auditor: User
    security_admin: User
    audit_admin: User
    system: User


def _user(username: str, role: str, unit: Unit | None, name: str) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, role=role,
                                    unit=unit, display_name=name)
    return user


@pytest.fixture
def city(db: None) -> City:
    c = City()
    c.gulou = District.objects.create(code="gulou", name="鼓楼区")
    c.taijiang = District.objects.create(code="taijiang", name="台江区")
    c.centre = Unit.objects.create(code="centre", name="市12345热线中心", kind=UnitKind.CENTRE)
    c.subcentre = Unit.objects.create(code="gulou-sub", name="鼓楼区分中心",
                                      kind=UnitKind.SUBCENTRE, parent=c.centre, district=c.gulou)
    c.street = Unit.objects.create(code="gulou-dongjie", name="东街街道", kind=UnitKind.STREET,
                                   parent=c.subcentre, district=c.gulou)
    c.water = Unit.objects.create(code="water", name="市水务局", kind=UnitKind.DEPARTMENT,
                                  parent=c.centre, phone="0591-12345001")
    c.housing = Unit.objects.create(code="housing", name="市住建局", kind=UnitKind.DEPARTMENT,
                                    parent=c.centre)
    c.env = Unit.objects.create(code="env", name="市生态环境局", kind=UnitKind.DEPARTMENT,
                                parent=c.centre)
    c.cat_utilities = Category.objects.create(code="10", name="城乡建设", level=1)
    c.cat_water = Category.objects.create(code="1001", name="供水", level=2,
                                          parent=c.cat_utilities)
    c.cat_outage = Category.objects.create(
        code="100101", name="停水", level=3, parent=c.cat_water, sign_limit_hours=7,
        handle_limit_days=5,
    )
    c.cat_noise = Category.objects.create(code="100201", name="噪声扰民", level=3,
                                          parent=c.cat_utilities, handle_limit_days=15)
    route = CategoryRoute.objects.create(category=c.cat_outage, lead_unit=c.water)
    route.co_units.add(c.housing)
    CategoryRoute.objects.create(category=c.cat_noise, lead_unit=c.env)
    CategoryRoute.objects.create(category=c.cat_noise, district=c.gulou, lead_unit=c.subcentre)
    c.agent = _user("alice", Role.AGENT, c.centre, "王坐席")
    c.monitor = _user("monica", Role.MONITOR, c.centre, "李班长")
    c.admin = _user("adam", Role.CENTRE_ADMIN, c.centre, "赵管理")
    c.handler = _user("hank", Role.DEPT_HANDLER, c.water, "水务承办人")
    c.dept_admin = _user("dora", Role.DEPT_ADMIN, c.water, "水务管理员")
    c.housing_handler = _user("hugo", Role.DEPT_HANDLER, c.housing, "住建承办人")
    c.env_handler = _user("erin", Role.DEPT_HANDLER, c.env, "环境承办人")
    c.sub_agent = _user("sam", Role.AGENT, c.subcentre, "鼓楼分中心坐席")
    c.street_handler = _user("stella", Role.DEPT_HANDLER, c.street, "东街承办人")
    c.leader = _user("leo", Role.LEADER, c.centre, "市领导")
    c.auditor = _user("audrey", Role.AUDITOR, c.centre, "审计员")
    c.security_admin = _user("selma", Role.SECURITY_ADMIN, c.centre, "安全管理员")
    c.audit_admin = _user("aldo", Role.AUDIT_ADMIN, c.centre, "审计管理员")
    c.system = _user("system", Role.SYSTEM, None, "系统")
    return c


def verify_second_factor(client: ClientMixin, user: User) -> None:
    """Mark the client's session as past the second factor (as a TOTP code would), with a
    confirmed authenticator for the user created if they have none."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture(autouse=True)
def _force_login_includes_the_second_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    """``force_login`` stands for a finished login, so for administrators (who log in with a
    TOTP code too) it includes the second factor. The tests of the login itself
    (tests/directory/test_login_security.py) go through the real pages instead."""
    from hotline.directory.security import needs_second_factor

    original = ClientMixin.force_login

    def force_login(self: ClientMixin, user: User, backend: str | None = None) -> None:
        original(self, user, backend)
        if needs_second_factor(user):
            verify_second_factor(self, user)

    monkeypatch.setattr(ClientMixin, "force_login", force_login)


_APPEND_ONLY = [  # (migration with the SQLite triggers, the delete trigger's name)
    ("hotline.orders.migrations.0002_number_sequence_and_immutable_history",
     "orders_event_no_delete"),
    ("hotline.contactcentre.migrations.0001_initial", "contactcentre_statechange_no_delete"),
    ("hotline.orders.migrations.0005_access_log", "orders_access_log_no_delete"),
]


@pytest.fixture(autouse=True)
def _append_only_logs_flushable_on_sqlite(request: pytest.FixtureRequest) -> Iterator[None]:
    """Transactional tests (live servers, gateways whose worker threads must see the test's
    rows, websockets) are emptied with ``flush`` afterwards. On SQLite ``flush`` deletes row by
    row and the triggers that keep the order history and the agents' state log append-only
    refuse that (PostgreSQL truncates, which row triggers do not see). So on SQLite the delete
    triggers are lifted just for the flush and put back before the next test."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "live_server" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False))
    if not transactional or connection.vendor != "sqlite":
        yield
        return
    request.getfixturevalue("transactional_db")
    with connection.cursor() as cursor:
        for module, _ in _APPEND_ONLY:
            for sql in importlib.import_module(module).SQLITE_FORWARD:
                cursor.execute(sql)
    yield
    with connection.cursor() as cursor:
        for _, trigger in _APPEND_ONLY:
            cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")


@pytest.fixture(autouse=True)
def _search_indexes_emptied_after_transactional_tests(request: pytest.FixtureRequest,
                                                      ) -> Iterator[None]:
    """The full-text index tables are raw SQL, not models, so the ``flush`` that empties the
    database after a transactional test leaves their rows behind: the next test's suggestions
    would then be weighed and cut among a previous test's entries (seen: the order form's
    knowledge answers missing after a test that had published 260 entries). They are emptied
    with the rest."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "live_server" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False))
    if not transactional:
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    tables = importlib.import_module("hotline.knowledge.migrations.0002_search_tables").TABLES
    with connection.cursor() as cursor:
        for table in tables.get(connection.vendor, []):
            cursor.execute(f"DELETE FROM {table}")  # names from the migration


# Under pytest-xdist (`make test` runs two workers) the tests that drive baresip phones through
# a call with the agent desk measure what each phone heard against the time of each step; two of
# them at once on two shared cores lose those recordings. They run on one worker, one after the
# other (``--dist loadgroup``); everything else is spread.
LIVE_PHONE_MODULES = frozenset({
    "tests.voice.test_agent_commands", "tests.voice.test_agent_calls",
    "tests.voice.test_baresip", "tests.voice.test_gateway_baresip",
    "tests.voice.test_phones_baresip", "tests.e2e.test_desk_call_browser",
    "tests.voice.test_outbound_agent", "tests.voice.test_outbound_callbacks",
    "tests.voice.test_softphone_gateway", "tests.e2e.test_softphone_browser",
})


# Real-time T.30 modems over RTP: one at a time (two on two shared cores miss their 20 ms
# deadlines and the fax fails), on one worker while the other runs the rest.
FAX_MODEM_MODULES = frozenset({
    "tests.voice.test_fax_rtp", "tests.voice.test_fax_sip", "tests.voice.test_fax_send",
})


# Modules that must keep their tests in one process (none now: the schemathesis module, whose
# last test checks what the others tried, is run on its own after the rest; see the Makefile).
ONE_PROCESS_MODULES: frozenset[str] = frozenset()


@pytest.hookimpl(tryfirst=True)  # before xdist's own, which reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        # By the node id's file: schemathesis's generated items carry no module.
        name = item.nodeid.split("::", 1)[0].removesuffix(".py").replace("/", ".")
        if name in LIVE_PHONE_MODULES:
            item.add_marker(pytest.mark.xdist_group("live-phones"))
        elif name in FAX_MODEM_MODULES:
            item.add_marker(pytest.mark.xdist_group("fax-modems"))
        elif name in ONE_PROCESS_MODULES:
            item.add_marker(pytest.mark.xdist_group(name))


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    """Every test starts with an empty per-process cache: the look-up, submission and SMS-code
    limits count in it, and under pytest-xdist one worker runs many tests' requests from
    127.0.0.1 in a row (a browser test's status look-up was refused after the portal tests had
    used up the address's failures). The per-process reference caches (tokens, districts,
    categories) are emptied too: a rolled-back test's rows must not outlive it."""
    from django.core.cache import cache

    from hotline.core.refcache import clear_all

    cache.clear()
    clear_all()
