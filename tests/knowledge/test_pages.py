"""Knowledge pages: search for staff (and as an htmx partial), the department's entries, the
review queue, the citizens' public search, Excel import and export."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from io import BytesIO
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from hotline.directory.models import User
from hotline.knowledge.models import Entry
from hotline.knowledge.services import do_create_entry, do_entry_action
from tests.knowledge.conftest import entry_data, publish

if TYPE_CHECKING:

    from django.test import Client

    from tests.conftest import City

pytestmark = pytest.mark.django_db


def test_staff_search_page_and_htmx_partial(city: City, login: Callable[[User], Client]) -> None:
    entry = publish(city, title="停水公告", body="<p>鼓楼区临时停水</p>")
    client = login(city.agent)
    response = client.get(reverse("knowledge:search"), {"q": "停水"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<mark>停水</mark>公告" in html
    assert reverse("knowledge:entry", args=[entry.pk]) in html
    partial = client.get(reverse("knowledge:search"), {"q": "停水"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode() and "kb-hits" in partial.content.decode()


def test_search_page_needs_login_and_orders_tab_respects_scope(city: City, client: Client,
                                                               login: Callable[[User], Client]) -> None:
    from tests.orders.test_search import new_order

    response = client.get(reverse("knowledge:search"), {"q": "停水"})
    assert response.status_code == 302
    order = new_order(city)
    agent = login(city.agent)
    assert order.number in agent.get(reverse("knowledge:search"),
                                     {"q": "停水", "in": "orders"}).content.decode()
    handler = login(city.handler)
    assert order.number not in handler.get(reverse("knowledge:search"),
                                           {"q": "停水", "in": "orders"}).content.decode()


def test_public_search_without_login(city: City, client: Client, today: dt.date) -> None:
    publish(city, title="停水公开说明")
    publish(city, title="停水内部口径", public=False)
    publish(city, title="停水过期说明", valid_until=today - dt.timedelta(days=1))
    response = client.get("/knowledge/public/", {"q": "停水"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "公开说明" in html and "内部口径" not in html and "过期说明" not in html
    hit = response.context["hits"][0]
    detail = client.get(reverse("knowledge:public_entry", args=[hit.entry.pk]))
    assert detail.status_code == 200 and "公开说明" in detail.content.decode()
    internal = Entry.objects.get(title="停水内部口径")
    assert client.get(reverse("knowledge:public_entry", args=[internal.pk])).status_code == 404


def test_entry_page_escapes_and_shows_workflow_to_owner(city: City, login: Callable[[User], Client]) -> None:
    entry = publish(city, title="<script>t()</script>停水", body="正文<script>alert(1)</script>")
    # A body that bypassed the services (e.g. a bulk load) is still sanitised on output.
    Entry.objects.filter(pk=entry.pk).update(body="x")
    assert entry.published is not None and entry.published_id is not None
    type(entry.published).objects.filter(pk=entry.published_id).update(
        body='<p>正文</p><script>alert(1)</script><img src=x onerror="y()">')
    html = login(city.agent).get(reverse("knowledge:entry", args=[entry.pk])).content.decode()
    assert "<script>alert" not in html and "onerror" not in html and "<script>t()" not in html
    assert "&lt;script&gt;t()" in html
    assert "Start a revision" not in html  # agents read
    html = login(city.dept_admin).get(reverse("knowledge:entry", args=[entry.pk])).content.decode()
    assert "Start a revision" in html and "Retire" in html


def test_department_drafts_edits_and_submits(city: City, login: Callable[[User], Client]) -> None:
    client = login(city.handler)
    response = client.post(reverse("knowledge:new"), {
        "kind": "guide", "title": "用水报装指南", "body": "第一步：申请\n\n第二步：验收",
        "keywords": "报装 用水", "owner": city.water.pk, "categories": [city.cat_outage.pk],
        "public": "on",
    })
    entry = Entry.objects.get(title="用水报装指南")
    assert response.status_code == 302
    assert entry.body == "<p>第一步：申请</p><p>第二步：验收</p>" and entry.state == "draft"
    response = client.post(reverse("knowledge:edit", args=[entry.pk]), {
        "kind": "guide", "title": "用水报装办事指南", "body": "改", "owner": city.water.pk,
    })
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.title == "用水报装办事指南" and entry.public is False
    assert client.post(reverse("knowledge:action", args=[entry.pk, "submit"])).status_code == 302
    entry.refresh_from_db()
    assert entry.state == "submitted"
    # Someone else's entry: no edit page, no actions.
    other = login(city.housing_handler)
    assert other.get(reverse("knowledge:edit", args=[entry.pk])).status_code == 404
    assert other.post(reverse("knowledge:action", args=[entry.pk, "withdraw"])).status_code == 403
    assert login(city.agent).get(reverse("knowledge:new")).status_code == 403


def test_new_entry_form_errors_are_422(city: City, login: Callable[[User], Client]) -> None:
    response = login(city.handler).post(reverse("knowledge:new"), {"kind": "guide", "title": ""})
    assert response.status_code == 422


def test_mine_lists_expired_and_drafts_for_owners_only(city: City, login: Callable[[User], Client],
                                                       today: dt.date) -> None:
    expired = publish(city, title="已过期的通知", valid_until=today - dt.timedelta(days=2))
    draft = do_create_entry(city.handler, entry_data(title="草稿中"))
    response = login(city.handler).get(reverse("knowledge:mine"))
    titles = {e.title for e in response.context["page"]}
    assert titles == {"已过期的通知", "草稿中"}
    assert "Expired" in response.content.decode()
    only_expired = login(city.handler).get(reverse("knowledge:mine"), {"state": "expired"})
    assert [e.pk for e in only_expired.context["page"]] == [expired.pk]
    assert draft.pk not in [e.pk for e in login(city.housing_handler).get(
        reverse("knowledge:mine")).context["page"]]
    assert login(city.agent).get(reverse("knowledge:mine")).status_code == 403


def test_review_queue_publish_and_reject(city: City, login: Callable[[User], Client]) -> None:
    first = do_create_entry(city.handler, entry_data(title="待审一"))
    second = do_create_entry(city.handler, entry_data(title="待审二"))
    for entry in (first, second):
        do_entry_action(city.handler, entry.pk, "submit")
    assert login(city.handler).get(reverse("knowledge:review")).status_code == 403
    client = login(city.monitor)
    response = client.get(reverse("knowledge:review"))
    assert [e.title for e in response.context["entries"]] == ["待审一", "待审二"]
    response = client.post(reverse("knowledge:action", args=[first.pk, "publish"]), {"next": "review"})
    assert response.status_code == 302 and response["Location"] == reverse("knowledge:review")
    client.post(reverse("knowledge:action", args=[second.pk, "reject"]), {"note": "内容不全"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == "published" and second.state == "draft" and second.review_note == "内容不全"
    assert list(client.get(reverse("knowledge:review")).context["entries"]) == []


def _workbook(rows: list[Any]) -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = BytesIO()
    book.save(out)
    return SimpleUploadedFile("entries.xlsx", out.getvalue())


def test_excel_import_reports_rejected_rows_and_export_round_trips(city: City,
                                                                   login: Callable[[User], Client]) -> None:
    published = publish(city, title="已发布条目")
    rows = [
        ["kind", "title", "body", "keywords", "categories", "valid_until", "public"],
        ["办事指南", "户表更换", "携带身份证办理", "户表 水表", "100101", "2030-12-31", "是"],
        ["faq", "", "无标题", "", "", None, None],
        ["nonsense", "坏类型", "正文", "", "", None, None],
        ["faq", "坏日期", "正文", "", "", "明天", None],
        ["faq", "坏分类", "正文", "", "999", None, None],
        [None, None, None, None, None, None, None],
        ["policy", "阶梯水价政策", "居民阶梯水价分三档", "水价", "", None, "否"],
    ]
    client = login(city.handler)
    response = client.post(reverse("knowledge:import"), {"file": _workbook(rows)})
    report = response.context["report"]
    assert report.created == 2 and report.updated == 0
    assert [row for row, _reason in report.rejected] == [3, 4, 5, 6]
    assert "title" in report.rejected[0][1]
    guide = Entry.objects.get(title="户表更换")
    assert guide.kind == "guide" and guide.valid_until == dt.date(2030, 12, 31) and guide.public
    assert Entry.objects.get(title="阶梯水价政策").public is False
    # Update a draft by id; a published entry must be revised first.
    update = [["id", "kind", "title", "body"], [guide.pk, "guide", "户表更换指南", "新正文"],
              [published.pk, "faq", "改已发布", "x"]]
    report = client.post(reverse("knowledge:import"), {"file": _workbook(update)}).context["report"]
    assert report.updated == 1 and [r for r, _ in report.rejected] == [3]
    exported = client.get(reverse("knowledge:export"))
    assert exported.status_code == 200
    sheet = load_workbook(BytesIO(exported.content)).active
    header = [c.value for c in sheet[1]]
    titles = {row[header.index("title")] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert titles == {"户表更换指南", "阶梯水价政策", "已发布条目"}
    not_excel = client.post(reverse("knowledge:import"),
                            {"file": SimpleUploadedFile("x.xlsx", b"not a workbook")})
    assert not_excel.context["report"].rejected[0][0] == 0


def test_suggestions_fragment_for_typed_text(city: City, client: Client,
                                             login: Callable[[User], Client]) -> None:
    publish(city, title="停水怎么办")
    url = reverse("knowledge:suggest")
    assert client.get(url, {"text": "停水"}).status_code == 302  # staff only
    client = login(city.agent)
    html = client.get(url, {"text": "您好，我们小区<b>停水</b>了"}).content.decode()
    assert "<mark>停水</mark>怎么办" in html and "<html" not in html
    assert "kb-hits" not in client.get(url, {"text": "请问"}).content.decode()
