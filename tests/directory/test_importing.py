from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.utils import translation
from openpyxl import Workbook, load_workbook

from hotline.directory import importing
from hotline.directory.models import Category, CategoryRoute, District, Unit, UnitKind

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from tests.conftest import City

UNIT_HEADER = ["code", "name", "kind", "parent", "district", "phone", "duties"]
CAT_HEADER = ["编码", "名称", "层级", "上级编码", "受理类型", "签收时限", "办理时限",
              "紧急签收时限", "紧急办理时限", "主办单位编码", "区县编码", "协办单位编码"]


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """The report's reasons are checked in English, whatever the default language is."""
    with translation.override("en"):
        yield


def workbook_bytes(**sheets: Sequence[Sequence[object]]) -> io.BytesIO:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        sheet = wb.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    return buf


def snapshot() -> dict[str, object]:
    return {
        "districts": sorted(District.objects.values_list("code", "name")),
        "units": sorted(Unit.objects.values_list("code", "name", "kind", "parent__code",
                                                 "district__code", "phone", "duties")),
        "categories": sorted(
            (c.code, c.name, c.level, c.parent.code if c.parent else None,
             tuple(c.accepted_types), c.sign_limit_hours, c.handle_limit_days,
             c.urgent_sign_limit_hours, c.urgent_handle_limit_hours)
            for c in Category.objects.select_related("parent")),
        "routes": sorted(
            (r.category.code, r.district.code if r.district else "", r.lead_unit.code,
             tuple(sorted(r.co_units.values_list("code", flat=True))))
            for r in CategoryRoute.objects.select_related("category", "district", "lead_unit")),
    }


def test_units_good_and_bad_rows(city: City) -> None:
    data = workbook_bytes(units=[
        UNIT_HEADER,
        # a child listed before its parent is fine
        ["gulou-nanjie", "南街街道", "街道", "gulou-sub2", "gulou", "0591-1", "南街事务"],
        ["gulou-sub2", "鼓楼第二分中心", "subcentre", "centre", "gulou", "", ""],
        ["water", "市水务局（新）", "部门", "centre", "", "0591-999", "供水排水"],  # update
        ["traffic", "市交通运输局", "department", "centre", "", "", ""],
        ["bad-parent", "无上级", "部门", "nowhere", "", "", ""],
        ["orphan", "孤儿", "street", "bad-parent", "", "", ""],  # parent rejected above
        ["bad-kind", "怪单位", "委员会", "centre", "", "", ""],
        ["bad-district", "错区", "street", "gulou-sub", "mars", "", ""],
        ["", "无编码", "部门", "centre", "", "", ""],
        ["noname", "", "部门", "centre", "", "", ""],
        ["traffic", "重复", "department", "centre", "", "", ""],
        [None, None, None, None, None, None, None],  # blank rows are skipped
        ["x" * 33, "长编码", "部门", "centre", "", "", ""],
    ])
    report = importing.import_units(data)
    units = report.sheet("units")
    assert units is not None
    assert (units.created, units.updated) == (3, 1)
    reasons = {(e.row, e.code): e.reason for e in report.errors}
    assert set(reasons) == {(6, "bad-parent"), (7, "orphan"), (8, "bad-kind"),
                            (9, "bad-district"), (10, ""), (11, "noname"), (12, "traffic"),
                            (14, "x" * 33)}
    assert "longer than 32" in reasons[(14, "x" * 33)]
    assert "nowhere" in reasons[(6, "bad-parent")]
    assert "bad-parent" in reasons[(7, "orphan")]
    assert "委员会" in reasons[(8, "bad-kind")]
    assert "mars" in reasons[(9, "bad-district")]
    assert reasons[(10, "")] == "missing code"
    assert reasons[(11, "noname")] == "missing name"
    assert "row 5" in reasons[(12, "traffic")]
    street = Unit.objects.get(code="gulou-nanjie")
    assert street.parent is not None and street.district is not None
    assert street.kind == UnitKind.STREET and street.parent.code == "gulou-sub2"
    assert street.district.code == "gulou"
    water = Unit.objects.get(code="water")
    assert (water.name, water.phone, water.duties) == ("市水务局（新）", "0591-999", "供水排水")
    assert not Unit.objects.filter(code__in=["bad-parent", "orphan", "bad-kind"]).exists()
    assert "3 created, 1 updated" in report.summary() and "8 rejected" in report.summary()


def test_unit_parent_cycle_is_rejected(city: City) -> None:
    data = workbook_bytes(units=[
        UNIT_HEADER,
        ["a", "甲", "department", "b", "", "", ""],
        ["b", "乙", "department", "a", "", "", ""],
    ])
    report = importing.import_units(data)
    assert {e.code for e in report.errors} == {"a", "b"}
    assert all("loops" in e.reason for e in report.errors)


def test_catalogue_good_and_bad_rows(city: City) -> None:
    data = workbook_bytes(catalogue=[
        CAT_HEADER,
        ["20", "市场监管", 1, "", "", None, None, None, None, "", "", ""],
        ["2001", "食品安全", 2, "20", "投诉,举报", 4, 10, None, None, "", "", ""],
        ["200101", "餐饮卫生", 3, "2001", "complaint, Report of wrongdoing", 7, 10, 1, 12,
         "env", "", "water, housing"],
        ["200101", "餐饮卫生", 3, "2001", "", None, None, None, None, "gulou-sub", "gulou", ""],
        ["200102", "过期食品", 3, "2001", "咨询", None, None, None, None, "nobody", "", ""],
        ["200103", "层级错", 2, "2001", "", None, None, None, None, "", "", ""],
        ["200104", "无上级", 3, "2099", "", None, None, None, None, "", "", ""],
        ["200105", "坏类型", 3, "2001", "闲聊", None, None, None, None, "", "", ""],
        ["200106", "坏时限", 3, "2001", "", "两天", None, None, None, "", "", ""],
        ["21", "顶级带上级", 1, "10", "", None, None, None, None, "", "", ""],
        ["22", "坏层级", 4, "", "", None, None, None, None, "", "", ""],
        ["2001", "另一个名字", 2, "20", "", None, None, None, None, "", "", ""],
        ["200107", "中心主办", 3, "2001", "", None, None, None, None, "centre", "", ""],
        ["100101", "停水", 3, "1001", "", 2, 3, None, None, "water", "gulou", "env"],
    ])
    report = importing.import_catalogue(data)
    result = report.sheet("catalogue")
    assert result is not None
    assert (result.created, result.updated) == (3, 1)
    reasons = {e.row: e.reason for e in report.errors}
    assert set(reasons) == {6, 7, 8, 9, 10, 11, 12, 13, 14}
    assert "unknown unit nobody" in reasons[6]
    assert "bad level" in reasons[7]
    assert "unknown parent category 2099" in reasons[8]
    assert "闲聊" in reasons[9]
    assert "sign_hours" in reasons[10]
    assert "no parent" in reasons[11]
    assert "level must be" in reasons[12]
    assert "duplicate code" in reasons[13]
    assert "centre" in reasons[14]
    food = Category.objects.get(code="200101")
    assert food.parent is not None
    assert food.parent.code == "2001" and food.level == 3
    assert food.accepted_types == ["complaint", "report"]
    assert (food.sign_limit_hours, food.handle_limit_days, food.urgent_sign_limit_hours,
            food.urgent_handle_limit_hours) == (7, 10, 1, 12)
    default = CategoryRoute.objects.get(category=food, district=None)
    assert default.lead_unit.code == "env"
    assert set(default.co_units.values_list("code", flat=True)) == {"water", "housing"}
    assert CategoryRoute.objects.get(category=food, district__code="gulou").lead_unit.code == (
        "gulou-sub")
    assert Category.objects.get(code="2001").accepted_types == ["complaint", "report"]
    assert Category.objects.get(code="20").accepted_types == [
        "consultation", "complaint", "report", "help", "suggestion", "praise", "other"]
    # the existing category got a district route and new limits; its default route stays
    outage = Category.objects.get(code="100101")
    assert (outage.sign_limit_hours, outage.handle_limit_days) == (2, 3)
    assert CategoryRoute.objects.get(category=outage, district=None).lead_unit.code == "water"
    assert CategoryRoute.objects.get(category=outage, district__code="gulou").lead_unit.code == (
        "water")


def test_round_trip(city: City, tmp_path: Path) -> None:
    # the fixture hangs a level-3 category under level 1; give it a proper level-2 parent
    noise_group = Category.objects.create(code="1002", name="噪声", level=2,
                                          parent=city.cat_utilities)
    Category.objects.filter(code="100201").update(parent=noise_group)
    path = tmp_path / "directory.xlsx"
    importing.export_workbook(str(path))
    before = snapshot()
    wb = load_workbook(path)
    assert wb.sheetnames == ["districts", "units", "catalogue"]
    assert [c.value for c in wb["units"][1]] == list(importing.UNIT_COLUMNS)
    # change the database behind the export's back, then import the export: all restored
    Unit.objects.filter(code="water").update(name="改名了", phone="")
    Category.objects.filter(code="100101").update(handle_limit_days=99, accepted_types=["other"])
    CategoryRoute.objects.get(category__code="100101", district=None).co_units.clear()
    CategoryRoute.objects.filter(category__code="100201", district__code="gulou").delete()
    report = importing.import_workbook(str(path))
    assert report.errors == []
    assert snapshot() == before
    units = report.sheet("units")
    assert units is not None and units.updated == 1 and units.created == 0
    catalogue = report.sheet("catalogue")
    assert catalogue is not None and catalogue.updated == 2
    # a second import changes nothing
    again = importing.import_workbook(str(path))
    assert all(s.created == 0 and s.updated == 0 for s in again.sheets)


def test_command_prints_report(city: City, tmp_path: Path) -> None:
    path = tmp_path / "in.xlsx"
    path.write_bytes(workbook_bytes(units=[
        UNIT_HEADER, ["edu", "市教育局", "部门", "centre", "", "", ""],
        ["x", "坏", "部门", "nope", "", "", ""],
    ]).getvalue())
    out = io.StringIO()
    call_command("import_directory", str(path), stdout=out)
    text = out.getvalue()
    assert "units: 1 created" in text and "1 rejected" in text
    assert "units row 3 (x): unknown parent unit nope" in text
    export = tmp_path / "out.xlsx"
    call_command("import_directory", str(export), "--export", stdout=io.StringIO())
    codes = [row[0] for row in load_workbook(export)["units"].iter_rows(min_row=2,
                                                                        values_only=True)]
    assert "edu" in codes


def test_not_a_workbook(city: City) -> None:
    with pytest.raises(importing.WorkbookError):
        importing.import_workbook(io.BytesIO(b"plain text, not a zip"))
