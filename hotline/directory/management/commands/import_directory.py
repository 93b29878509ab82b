"""``manage.py import_directory FILE.xlsx``: import districts, units and the catalogue."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hotline.directory import importing

HELP = """Import the directory from an Excel workbook and print the report (good rows are
upserted by code, bad rows are listed with their row number and reason). Sheets, any of them,
with a header row (English or Chinese column names, any order):
  districts: code, name
  units: code, name, kind (centre/subcentre/department/street or 中心/分中心/部门/街道),
         parent, district, phone, duties
  catalogue: code, name, level (1-3), parent, types (comma list, e.g. 咨询,投诉 or
         consultation,complaint; empty = all), sign_hours, handle_days, urgent_sign_hours,
         urgent_handle_hours, lead_unit, district (empty = default route), co_units (comma list)
A category routed differently per district repeats its code and name on one row per route.
With --export, write the current directory to FILE in the same format instead."""


class Command(BaseCommand):
    help = HELP

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the .xlsx workbook to read (or write with --export)")
        parser.add_argument("--export", action="store_true",
                            help="write the directory to the file instead of importing it")
        parser.add_argument("--only", choices=["units", "catalogue"],
                            help="import only this sheet (a one-sheet workbook may be unnamed)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        if options["export"]:
            importing.export_workbook(path)
            self.stdout.write(f"exported to {path}")
            return
        try:
            if options["only"] == "units":
                report = importing.import_units(path)
            elif options["only"] == "catalogue":
                report = importing.import_catalogue(path)
            else:
                report = importing.import_workbook(path)
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        self.stdout.write(report.summary())
        for error in report.errors:
            self.stdout.write(self.style.WARNING(str(error)))
