"""Finding 11 of issue 10: the audit administrator alone searches and exports the personal-data
access log (page, .xlsx export, JSON API); searching and exporting are logged too."""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone
from openpyxl import load_workbook

from hotline.core.roles import Role
from hotline.directory.models import User
from hotline.orders import access_log
from hotline.orders.models import AccessKind, AccessLog, Order
from hotline.orders.services import NewOrder, do_create_order

if TYPE_CHECKING:
    from tests.conftest import City

PAGE = "/audit/access-log/"
EXPORT = "/audit/access-log/export/"
API = "/api/v1/audit/access-log"
EVERYONE_ELSE = ["agent", "monitor", "admin", "handler", "dept_admin", "housing_handler",
                 "env_handler", "sub_agent", "street_handler", "leader", "auditor",
                 "security_admin", "system"]


def client_for(user: Any, address: str = "192.0.2.7") -> Client:
    client = Client(REMOTE_ADDR=address)
    client.force_login(user)
    return client


def order_for(city: Any, phone: str) -> Order:
    order, _ = do_create_order(city.agent, NewOrder(
        type="complaint", channel="phone", title="噪声", text="夜间施工噪声", citizen_phone=phone,
        citizen_name="李四", category="100201"))
    return order


def request_from(address: str) -> Any:
    return RequestFactory().get("/orders/", REMOTE_ADDR=address)


@pytest.fixture
def logged(city: Any) -> dict[str, Any]:
    """Accesses by several people to two citizens' orders, on different days and addresses."""
    first = order_for(city, "13911112222")
    second = order_for(city, "13833334444")
    now = timezone.now()
    entries = {
        "agent_first": access_log.do_log_access(
            city.agent, AccessKind.CITIZEN_VIEW, order=first, request=request_from("10.0.0.1"),
            now=now - dt.timedelta(days=3)),
        "handler_second": access_log.do_log_access(
            city.handler, AccessKind.RECORDING_PLAY, order=second,
            request=request_from("10.0.9.9"), now=now - dt.timedelta(days=1)),
        "monitor_export": access_log.do_log_access(
            city.monitor, AccessKind.EXPORT, request=request_from("172.16.0.5"),
            detail="=HYPERLINK(\"http://evil\")", now=now),
    }
    return {"first": first, "second": second, "entries": entries, "now": now}


def ids(answer: Any) -> set[int]:
    return {item["id"] for item in answer.json()["items"]}


# --- who may read the log ------------------------------------------------------------------

@pytest.mark.parametrize("who", EVERYONE_ELSE)
@pytest.mark.parametrize("url", [PAGE, EXPORT, API])
def test_nobody_but_the_audit_admin_reads_the_log(city: City, who: str, url: str) -> None:
    assert client_for(getattr(city, who)).get(url).status_code == 403


@pytest.mark.parametrize("url", [PAGE, EXPORT, API])
def test_a_superuser_does_not_read_the_log(city: City, url: str) -> None:
    root = User.objects.create_superuser("root", "root@example.org", "pw-root-123456Aa")
    assert client_for(root).get(url).status_code == 403
    # Not even a superuser who is also made an audit administrator (two duties in one account).
    root.role = Role.AUDIT_ADMIN
    root.save()
    assert client_for(root).get(url).status_code == 403


def test_a_visitor_is_sent_to_the_login(city: City) -> None:
    assert Client().get(PAGE).status_code == 302
    assert Client().get(API).status_code == 401


def test_the_audit_admin_has_the_page_in_the_navigation(city: City) -> None:
    page = client_for(city.audit_admin).get(PAGE)
    assert page.status_code == 200 and 'id="nav-access-log"' in page.content.decode()
    other = client_for(city.agent).get("/orders/")
    assert 'id="nav-access-log"' not in other.content.decode()


# --- searching -----------------------------------------------------------------------------

def test_the_page_lists_the_entries_and_logs_the_search(city: City, logged: dict[str, Any]) -> None:
    page = client_for(city.audit_admin).get(PAGE, {"kind": "recording_play"})
    assert page.status_code == 200
    body = page.content.decode()
    assert logged["second"].number in body and "10.0.9.9" in body
    assert logged["first"].number not in body
    search = AccessLog.objects.get(kind=AccessKind.AUDIT_LOG_VIEW)
    assert search.user_id == city.audit_admin.pk and search.address == "192.0.2.7"
    assert search.detail == "kind=recording_play"
    assert search.path == PAGE + "?kind=recording_play"


@pytest.mark.parametrize("params,expected", [
    ({"user": "alic"}, {"agent_first"}),
    ({"role": "dept_handler"}, {"handler_second"}),
    ({"kind": "export"}, {"monitor_export"}),
    ({"citizen_phone": "139-1111-2222"}, {"agent_first"}),
    ({"address": "10.0."}, {"agent_first", "handler_second"}),
])
def test_the_api_searches_by_each_field(city: City, logged: dict[str, Any], params: dict[str, str],
                                        expected: set[str]) -> None:
    answer = client_for(city.audit_admin).get(API, params)
    assert answer.status_code == 200, answer.content
    assert ids(answer) == {logged["entries"][name].pk for name in expected}


def test_the_api_searches_by_order_number_and_date(city: City, logged: dict[str, Any]) -> None:
    client = client_for(city.audit_admin)
    answer = client.get(API, {"order_number": logged["second"].number})
    assert ids(answer) == {logged["entries"]["handler_second"].pk}
    today = timezone.localdate(logged["now"])
    answer = client.get(API, {"date_from": (today - dt.timedelta(days=2)).isoformat(),
                              "date_to": today.isoformat(), "kind": "citizen_view"})
    assert ids(answer) == set()
    answer = client.get(API, {"date_to": (today - dt.timedelta(days=2)).isoformat()})
    assert ids(answer) == {logged["entries"]["agent_first"].pk}
    item = client.get(API, {"order_number": logged["first"].number}).json()["items"][0]
    assert item["user"] == "alice" and item["role"] == "agent" and item["kind"] == "citizen_view"
    assert item["order"] == logged["first"].number and item["address"] == "10.0.0.1"
    assert item["citizen"] == logged["first"].citizen_id


def test_the_api_pages_and_logs_itself(city: City, logged: dict[str, Any]) -> None:
    client = client_for(city.audit_admin)
    first = client.get(API, {"limit": 2}).json()
    assert first["count"] == 3 and len(first["items"]) == 2
    assert [i["id"] for i in first["items"]] == [logged["entries"]["monitor_export"].pk,
                                                 logged["entries"]["handler_second"].pk]
    # The first search is an entry now (the newest), so the third entry moved to the next page.
    second = client.get(API, {"limit": 2, "offset": 2}).json()
    assert second["count"] == 4
    assert [i["id"] for i in second["items"]] == [logged["entries"]["handler_second"].pk,
                                                  logged["entries"]["agent_first"].pk]
    assert AccessLog.objects.filter(kind=AccessKind.AUDIT_LOG_VIEW).count() == 2


def test_the_page_paginates(city: City) -> None:
    for _ in range(55):
        access_log.do_log_access(city.agent, AccessKind.CITIZEN_VIEW)
    client = client_for(city.audit_admin)
    first = client.get(PAGE).content.decode()
    assert first.count('class="access-entry"') == 50 and "Page 1 of 2" in first
    second = client.get(PAGE, {"page": 2}).content.decode()
    assert second.count('class="access-entry"') == 6  # 5 left, and the first page's search


@pytest.mark.parametrize("params", [
    {"kind": "nonsense"}, {"role": "emperor"}, {"date_from": "2026-13-40"},
    {"date_from": "2026-03-02", "date_to": "2026-03-01"}, {"citizen_phone": "12"},
    {"limit": 0}, {"offset": -1},
])
def test_bad_search_input_is_a_clear_4xx(city: City, params: dict[str, Any]) -> None:
    client = client_for(city.audit_admin)
    answer = client.get(API, params)
    assert answer.status_code == 422 and answer.json()["detail"]
    if "limit" not in params and "offset" not in params:
        page = client.get(PAGE, params)
        assert page.status_code == 422
        assert 'class="errorlist' in page.content.decode()
    assert not AccessLog.objects.filter(kind=AccessKind.AUDIT_LOG_VIEW).exists()


# --- exporting -----------------------------------------------------------------------------

def test_the_export_opens_in_openpyxl_with_the_rows_and_is_logged(city: City, logged: dict[str, Any]) -> None:
    answer = client_for(city.audit_admin).get(EXPORT, {"address": "10."})
    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith('attachment; filename="access-log-')
    sheet = load_workbook(io.BytesIO(answer.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == access_log.EXPORT_COLUMNS
    by_id = {row[0]: row for row in rows[1:]}
    expected = {str(e.pk) for name, e in logged["entries"].items() if name != "monitor_export"}
    assert set(by_id) == expected
    agent_row = by_id[str(logged["entries"]["agent_first"].pk)]
    assert agent_row[2:6] == ("alice", "agent", "citizen_view", logged["first"].number)
    assert agent_row[9] == "10.0.0.1"
    exported = AccessLog.objects.get(kind=AccessKind.AUDIT_LOG_EXPORT)
    assert exported.user_id == city.audit_admin.pk and exported.detail == "2 rows; address=10."


def test_exported_text_is_never_a_formula(city: City, logged: dict[str, Any]) -> None:
    answer = client_for(city.audit_admin).get(EXPORT, {"kind": "export"})
    sheet = load_workbook(io.BytesIO(answer.content)).active
    cell = sheet.cell(row=2, column=8)
    assert cell.value == '=HYPERLINK("http://evil")' and cell.data_type == "s"
