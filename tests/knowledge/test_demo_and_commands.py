from __future__ import annotations

from io import StringIO
from typing import TYPE_CHECKING

import pytest
from django.core.management import CommandError, call_command

from hotline.demo.knowledge_entries import ENTRIES
from hotline.knowledge.models import Entry
from hotline.knowledge.search import search_entries
from hotline.orders.search import search_orders

if TYPE_CHECKING:

    from django.test import Client
    from pytest_django.fixtures import Settings

    from tests.conftest import City

pytestmark = pytest.mark.django_db


def test_load_demo_knowledge_publishes_searchable_entries(city: City) -> None:
    city.water.duties = "城市供水、排水和污水处理。"
    city.water.save()
    out = StringIO()
    call_command("load_demo_knowledge", stdout=out)
    assert f"{len(ENTRIES) + 1} created" in out.getvalue()  # + the water department's functions
    assert Entry.objects.filter(state="published").count() == len(ENTRIES) + 1
    assert search_entries(None, "燃气泄漏")[0].version.title == "闻到燃气味怎么办"
    functions = search_entries(city.agent, "水务局 转接电话")
    assert functions[0].version.title == "市水务局职能和转接电话"
    assert "0591-12345001" in functions[0].version.body
    # Expired and internal demo entries are hidden from citizens.
    titles = lambda user, q: {h.version.title for h in search_entries(user, q)}  # noqa: E731
    assert "示范市2025年最低工资标准" not in titles(None, "最低工资")
    assert "示范市2025年最低工资标准" not in titles(city.agent, "最低工资")
    assert search_entries(None, "信访 口径") == []
    assert search_entries(city.agent, "信访 口径") != []
    # Entries of units the fixture city lacks belong to the centre; running again adds nothing.
    assert Entry.objects.get(title="被拖欠工资怎么办（欠薪投诉）").owner == city.centre
    out = StringIO()
    call_command("load_demo_knowledge", stdout=out)
    assert "0 created" in out.getvalue()


def test_load_demo_knowledge_needs_a_directory(city: City) -> None:
    from hotline.directory.models import Unit, UnitKind

    Unit.objects.filter(kind=UnitKind.CENTRE).update(kind=UnitKind.DEPARTMENT)
    with pytest.raises(CommandError):
        call_command("load_demo_knowledge", stdout=StringIO())


def test_index_commands(city: City) -> None:
    from tests.knowledge.conftest import publish
    from tests.orders.test_search import new_order

    order = new_order(city)
    out = StringIO()
    call_command("index_orders", stdout=out)
    assert "orders indexed: 1" in out.getvalue()
    call_command("index_orders", "--all", stdout=out)
    assert [h.order for h in search_orders(city.agent, "停水")] == [order]
    publish(city)
    out = StringIO()
    call_command("rebuild_knowledge_index", stdout=out)
    assert "entries indexed: 1" in out.getvalue()
    assert len(search_entries(city.agent, "停水")) == 1


def test_index_task_and_chinese_pages(city: City, client: Client, settings: Settings) -> None:
    from hotline.orders.tasks import index_new_orders_task
    from tests.orders.test_search import new_order

    new_order(city)
    assert index_new_orders_task.call() == 1
    # The default UI language renders too.
    settings.LANGUAGE_CODE = "zh-hans"
    assert client.get("/knowledge/public/", {"q": "停水"}).status_code == 200
    client.force_login(city.agent)
    assert client.get("/knowledge/", {"q": "停水"}).status_code == 200
