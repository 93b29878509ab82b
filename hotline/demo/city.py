"""The demo city 示范市: its directory, staff for every role, and a few thousand work orders with
real histories (``manage.py load_demo``).

The directory and staff are written directly (they are configuration); every order is created
and moved only through the order services (``do_create_order``, ``do_action``) with ``now=``
set to past moments, so histories are real, hash-chained and checked like any other.
Everything runs in one transaction: the demo is there completely or not at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotline.core.roles import Role
from hotline.demo.data import org
from hotline.demo.data.catalogue import CATALOGUE, Leaf
from hotline.directory.models import Category, CategoryRoute, District, Unit, UnitKind, User

DEFAULT_PASSWORD = "demo12345"  # noqa: S105 - the documented demo password, overridable
DEFAULT_ORDERS = 3000
DEFAULT_SEED = 12345

# The logins the launcher prints, in this order (only those that exist are returned).
SHOWN_LOGINS = (
    "agent1", "monitor", "centreadmin", "leader", "auditor", "water_handler", "water_admin",
    "housing_handler", "market_handler", "hrss_admin", "gulou_agent", "gulou_dongjie_handler",
    "secadmin", "auditadmin",
)


@dataclass
class DemoDirectory:
    """Handles to what ``build_directory`` made, for the order generator."""

    centre: Unit
    districts: dict[str, District] = field(default_factory=dict)
    subcentres: dict[str, Unit] = field(default_factory=dict)  # by district code
    streets: dict[str, list[Unit]] = field(default_factory=dict)  # by district code
    departments: dict[str, Unit] = field(default_factory=dict)  # by unit code
    leaves: list[tuple[Category, Leaf]] = field(default_factory=list)
    agents: list[User] = field(default_factory=list)
    sub_agents: dict[str, User] = field(default_factory=dict)  # by district code
    handlers: dict[int, User] = field(default_factory=dict)  # by unit id
    monitor: User | None = None
    admin: User | None = None
    leader: User | None = None
    system: User | None = None


def demo_password() -> str:
    return settings.HOTLINE_DEMO_PASSWORD


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role label, unit name) of the demo's interesting accounts, for the launcher."""
    users = {u.username: u for u in User.objects.filter(username__in=SHOWN_LOGINS)
             .select_related("unit")}
    rows = []
    for username in SHOWN_LOGINS:
        user = users.get(username)
        if user is not None:
            label = str(Role(user.role).label)
            rows.append((username, label, user.unit.name if user.unit else ""))
    return rows


def demo_second_factors() -> list[tuple[str, str, str]]:
    """(username, base32 key, otpauth URI) of the demo administrators' authenticators."""
    from base64 import b32encode

    devices = (TOTPDevice.objects.filter(user__username__in=SHOWN_LOGINS, confirmed=True)
               .select_related("user").order_by("user__username"))
    return [(d.user.username, b32encode(d.bin_key).decode(), d.config_url) for d in devices]


# --- directory -----------------------------------------------------------------------------

def build_directory() -> DemoDirectory:
    centre_code, centre_name, centre_phone, centre_duties = org.CENTRE
    centre = Unit.objects.create(code=centre_code, name=centre_name, kind=UnitKind.CENTRE,
                                 phone=centre_phone, duties=centre_duties)
    city = DemoDirectory(centre=centre)
    for code, name, streets in org.DISTRICTS:
        district = District.objects.create(code=code, name=name)
        city.districts[code] = district
        sub = Unit.objects.create(
            code=f"{code}-sub", name=f"{name}12345分中心", kind=UnitKind.SUBCENTRE,
            parent=centre, district=district, phone=f"0999-8720{len(city.subcentres) + 1:04d}",
            duties=_subcentre_duties(name),
        )
        city.subcentres[code] = sub
        city.streets[code] = [
            Unit.objects.create(
                code=f"{code}-{suffix}", name=street_name, kind=UnitKind.STREET, parent=sub,
                district=district, duties=f"{name}{street_name}辖区内的市容、环境、物业、民生等属地事项。",
            )
            for suffix, street_name in streets
        ]
    for code, name, phone, duties in org.DEPARTMENTS:
        city.departments[code] = Unit.objects.create(
            code=code, name=name, kind=UnitKind.DEPARTMENT, parent=centre, phone=phone,
            duties=duties)
    _build_catalogue(city)
    return city


def _subcentre_duties(name: str) -> str:
    return f"{name}范围内工单的二次派发、督办和回访，协调街道（乡镇）办理属地事项。"


def _build_catalogue(city: DemoDirectory) -> None:
    for top in CATALOGUE:
        level1 = Category.objects.create(
            code=top.code, name=top.name, level=1, sign_limit_hours=top.sign_hours,
            handle_limit_days=top.handle_days)
        for b_index, branch in enumerate(top.branches, start=1):
            level2 = Category.objects.create(
                code=f"{top.code}{b_index:02d}", name=branch.name, level=2, parent=level1,
                handle_limit_days=branch.handle_days,
                accepted_types=list(branch.types) if branch.types else _union(branch.leaves))
            for l_index, leaf in enumerate(branch.leaves, start=1):
                urgent_sign, urgent_handle = leaf.urgent or (None, None)
                category = Category.objects.create(
                    code=f"{level2.code}{l_index:02d}", name=leaf.name, level=3, parent=level2,
                    accepted_types=list(leaf.types), sign_limit_hours=leaf.sign_hours,
                    handle_limit_days=leaf.handle_days, urgent_sign_limit_hours=urgent_sign,
                    urgent_handle_limit_hours=urgent_handle,
                    keywords=" ".join([leaf.name, branch.name]),
                )
                _route(category, city.departments[leaf.lead],
                       [city.departments[c] for c in leaf.co])
                if leaf.street:
                    for code, sub in city.subcentres.items():
                        _route(category, sub, [], city.districts[code])
                city.leaves.append((category, leaf))


def _union(leaves: tuple[Leaf, ...]) -> list[str]:
    types: list[str] = []
    for leaf in leaves:
        types.extend(t for t in leaf.types if t not in types)
    return types


def _route(category: Category, lead: Unit, co: list[Unit],
           district: District | None = None) -> None:
    route = CategoryRoute.objects.create(category=category, district=district, lead_unit=lead)
    if co:
        route.co_units.set(co)


# --- staff ---------------------------------------------------------------------------------

def build_staff(city: DemoDirectory) -> None:
    password = make_password(demo_password())  # hashed once: hashing is deliberately slow
    counter = iter(range(8001, 9999))

    def user(username: str, role: str, unit: Unit | None, name: str, **extra: Any) -> User:
        return User.objects.create(
            username=username, password=password, role=role, unit=unit, display_name=name,
            extension=str(next(counter)) if role in (Role.AGENT, Role.MONITOR) else "",
            **extra)

    centre = city.centre
    city.agents = [user(f"agent{i}", Role.AGENT, centre, name)
                   for i, name in enumerate(("王晓燕", "李娜", "陈静", "刘洋"), start=1)]
    city.monitor = user("monitor", Role.MONITOR, centre, "张班长")
    city.admin = user("centreadmin", Role.CENTRE_ADMIN, centre, "赵管理员", is_staff=True)
    city.leader = user("leader", Role.LEADER, centre, "周副市长")
    user("auditor", Role.AUDITOR, centre, "孙审计")
    secadmin = user("secadmin", Role.SECURITY_ADMIN, centre, "钱安全管理员")
    auditadmin = user("auditadmin", Role.AUDIT_ADMIN, centre, "吴审计管理员")
    # Administrators log in with a second factor: each gets an authenticator key at once, which
    # the launcher prints (a newcomer adds it to an authenticator app).
    for admin in (city.admin, secadmin, auditadmin):
        TOTPDevice.objects.create(user=admin, name="demo authenticator", confirmed=True)
    city.system = (User.objects.filter(role=Role.SYSTEM).first()
                   or user("system", Role.SYSTEM, None, "系统"))
    for code, name, _streets in org.DISTRICTS:
        city.sub_agents[code] = user(f"{code}_agent", Role.AGENT, city.subcentres[code],
                                     f"{name}分中心坐席")
        for street in city.streets[code]:
            city.handlers[street.pk] = user(
                street.code.replace("-", "_") + "_handler", Role.DEPT_HANDLER, street,
                f"{street.name}承办人")
    for code, unit in city.departments.items():
        slug = code.replace("-", "_")
        city.handlers[unit.pk] = user(f"{slug}_handler", Role.DEPT_HANDLER, unit,
                                      f"{unit.name}承办人")
        if code in org.DEPARTMENTS_WITH_ADMIN:
            user(f"{slug}_admin", Role.DEPT_ADMIN, unit, f"{unit.name}管理员")


def directory_from_database() -> DemoDirectory:
    """The handles ``build_directory`` and ``build_staff`` gave, read back from the database (by
    the codes and usernames they wrote), for the background load's later chunks."""
    from hotline.demo.data.catalogue import leaves_by_code

    units = {u.code: u for u in Unit.objects.all()}
    users = {u.username: u for u in User.objects.filter(unit__isnull=False)}
    city = DemoDirectory(centre=units[org.CENTRE[0]])
    for code, _name, streets in org.DISTRICTS:
        city.districts[code] = District.objects.get(code=code)
        city.subcentres[code] = units[f"{code}-sub"]
        city.streets[code] = [units[f"{code}-{suffix}"] for suffix, _street in streets]
        city.sub_agents[code] = users[f"{code}_agent"]
        for street in city.streets[code]:
            city.handlers[street.pk] = users[street.code.replace("-", "_") + "_handler"]
    for code, _name, _phone, _duties in org.DEPARTMENTS:
        unit = units[code]
        city.departments[code] = unit
        city.handlers[unit.pk] = users[f"{code.replace('-', '_')}_handler"]
    leaves = leaves_by_code()
    categories = Category.objects.in_bulk(list(leaves), field_name="code")
    city.leaves = [(categories[code], leaf) for code, leaf in leaves.items()]
    city.agents = [users[f"agent{i}"] for i in range(1, 5)]
    city.monitor, city.admin = users["monitor"], users["centreadmin"]
    city.leader = users["leader"]
    city.system = User.objects.filter(role=Role.SYSTEM).first()
    return city


# --- entry point ---------------------------------------------------------------------------

@dataclass
class DemoResult:
    loaded: bool
    message: str
    orders: int = 0
    seconds: float = 0.0


def load_demo(orders: int = DEFAULT_ORDERS, seed: int = DEFAULT_SEED,
              progress: Callable[[str], None] | None = None) -> DemoResult:
    """Load the demo city unless the directory already has units (then do nothing)."""
    from hotline.demo.data.stories import generate_orders

    if Unit.objects.exists():
        return DemoResult(False, "the directory already has units; demo data not loaded")
    started = time.monotonic()
    with transaction.atomic():
        city = build_directory()
        build_staff(city)
        if progress:
            progress(f"directory: {Unit.objects.count()} units, {Category.objects.count()} "
                     f"categories, {User.objects.count()} staff")
        made = generate_orders(city, orders, seed, progress=progress)
    seconds = time.monotonic() - started
    return DemoResult(True, f"demo city loaded: {made} orders in {seconds:.1f} s", made, seconds)
