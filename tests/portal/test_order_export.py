"""The order list's Excel export: the filtered orders in scope, the citizen masked per role (a
department never gets a 举报 reporter), formulas neutralised, every download in the access log,
large exports built by the worker with their progress and a download for their owner only."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from hotline.directory.models import User
from hotline.orders.models import AccessKind, AccessLog, Order
from hotline.orders.services import do_action
from hotline.portal.models import OrderExport
from tests.portal.conftest import new_order

if TYPE_CHECKING:
    from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks, Settings

    from tests.conftest import City

pytestmark = pytest.mark.django_db
NAME_RE = re.compile(r'^attachment; filename="work-orders-\d{8}-\d{6}\.xlsx"$')


@pytest.fixture
def orders(city: City) -> dict[str, Order]:
    water = do_action(city.agent, new_order(
        city, title="=HYPERLINK(\"http://x\")停水", citizen_phone="13812341234",
        citizen_name="张三").number, "dispatch")
    report = do_action(city.agent, new_order(
        city, type="report", title="供水站乱收费", citizen_phone="13700009999",
        citizen_name="王五").number, "dispatch")
    other = new_order(city, title="夜间施工噪声", category="100201", district="taijiang",
                      citizen_phone="13900005678", citizen_name="李四")
    return {"water": water, "report": report, "other": other}


def rows_of(content: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def export(client: Client, **params: Any) -> Any:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(reverse("portal:order_export") + (f"?{query}" if query else ""))


def by_number(rows: list[list[Any]]) -> dict[str, list[Any]]:
    return {str(row[0]): row for row in rows[1:]}


def test_agent_export_is_the_filtered_list_in_full_and_logged(
        city: City, login: Callable[[User], Client], orders: dict[str, Order]) -> None:
    response = export(login(city.agent), district="gulou")
    assert response.status_code == 200
    assert NAME_RE.match(response["Content-Disposition"])
    rows = by_number(rows_of(response.content))
    assert set(rows) == {orders["water"].number, orders["report"].number}
    assert rows[orders["water"].number][11:13] == ["张三", "13812341234"]
    assert rows[orders["report"].number][11:13] == ["王五", "13700009999"]
    log = AccessLog.objects.get(kind=AccessKind.EXPORT, username=city.agent.username)
    assert log.detail.startswith("work orders: 2 rows;") and "district=gulou" in log.detail


def test_a_formula_title_stays_text(city: City, login: Callable[[User], Client],
                                    orders: dict[str, Order]) -> None:
    content = export(login(city.agent)).content
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    cells = [row[5] for row in sheet.iter_rows(min_row=2)]
    formula = next(c for c in cells if str(c.value).startswith("="))
    assert formula.data_type == "s" and formula.quotePrefix


def test_a_department_never_gets_a_reporter(city: City, login: Callable[[User], Client],
                                            orders: dict[str, Order]) -> None:
    response = export(login(city.handler))
    rows = by_number(rows_of(response.content))
    assert set(rows) == {orders["water"].number, orders["report"].number}  # its orders only
    assert rows[orders["water"].number][11:13] == ["张三", "13812341234"]
    report = rows[orders["report"].number]
    assert report[11] == "(confidential)" and report[12] in ("", None)
    text = " ".join(str(v) for row in rows_of(response.content) for v in row)
    assert "王五" not in text and "9999" not in text and "李四" not in text
    assert AccessLog.objects.filter(kind=AccessKind.EXPORT, username=city.handler.username)


def test_a_leader_gets_phones_masked(city: City, login: Callable[[User], Client],
                                     orders: dict[str, Order]) -> None:
    rows = by_number(rows_of(export(login(city.leader)).content))
    assert rows[orders["other"].number][11:13] == ["李*", "139****5678"]
    assert "13900005678" not in str(rows)


def test_export_is_a_post_and_bad_filters_refused(city: City, login: Callable[[User], Client],
                                                  orders: dict[str, Order]) -> None:
    client = login(city.agent)
    assert client.get(reverse("portal:order_export")).status_code == 302
    assert not AccessLog.objects.filter(kind=AccessKind.EXPORT).exists()
    response = export(client, created_from="yesterday")
    assert response.status_code == 422
    assert "Correct the filters" in response.content.decode()
    assert not AccessLog.objects.filter(kind=AccessKind.EXPORT).exists()


def test_a_large_export_runs_in_the_worker(
        city: City, login: Callable[[User], Client], orders: dict[str, Order],
        settings: Settings, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    settings.HOTLINE_ORDER_EXPORT_INLINE_ROWS = 1
    old = OrderExport.objects.create(user=city.handler, query="", state="done", content=b"x")
    OrderExport.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    client = login(city.handler)
    with django_capture_on_commit_callbacks(execute=True):
        response = export(client, sort="number")
    job = OrderExport.objects.get()  # the one of two days ago was removed
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:order_export_status", args=[job.pk])
    assert (job.state, job.done, job.total, job.percent) == ("done", 2, 2, 100)
    # Nothing has left yet: the log is written when the workbook is downloaded.
    assert not AccessLog.objects.filter(kind=AccessKind.EXPORT).exists()
    page = client.get(response["Location"]).content.decode()
    assert 'id="export-download"' in page and "<progress" in page
    download = client.get(reverse("portal:order_export_download", args=[job.pk]))
    assert download.status_code == 200 and NAME_RE.match(download["Content-Disposition"])
    rows = rows_of(download.content)
    assert [r[0] for r in rows[1:]] == sorted([orders["water"].number, orders["report"].number])
    assert "王五" not in str(rows)
    log = AccessLog.objects.get(kind=AccessKind.EXPORT)
    assert f"export #{job.pk}" in log.detail and "2 rows" in log.detail
    # Another user's export does not exist for them.
    other = login(city.agent)
    assert other.get(reverse("portal:order_export_status", args=[job.pk])).status_code == 404
    assert other.get(reverse("portal:order_export_download", args=[job.pk])).status_code == 404


def test_a_queued_export_shows_progress_and_cannot_be_downloaded_yet(
        city: City, login: Callable[[User], Client], orders: dict[str, Order]) -> None:
    job = OrderExport.objects.create(user=city.agent, query="", total=40, done=10)
    client = login(city.agent)
    html = client.get(reverse("portal:order_export_status", args=[job.pk]),
                      HTTP_HX_REQUEST="true").content.decode()
    assert 'value="25"' in html and 'hx-trigger="every 2s"' in html
    assert client.get(reverse("portal:order_export_download", args=[job.pk])).status_code == 409
    # The worker builds it once; a second run (a retry) leaves it alone.
    from hotline.portal.order_export import do_build_export

    assert do_build_export(job.pk) is not None
    assert do_build_export(job.pk) is None
    job.refresh_from_db()
    assert job.state == "done" and job.done == 3
