"""The order rollups kept per month beside per day (``OrderDailyRollup.period``), two more
grains (unit × type, category × type). The month rows and the new grains of the rollups
already there are computed here from the facts, so no report reads a gap after the upgrade."""

from typing import Any

from django.db import migrations, models
from django.db.models import Sum
from django.db.models.functions import TruncMonth

DIMENSIONS = ("unit_id", "district_id", "category_id", "type", "channel")
MEASURES = ("received", "direct", "dispatched", "signed", "signed_on_time", "finished",
            "finished_on_time", "closed", "called_back", "returned", "reopened", "extensions",
            "overdue", "rated", "satisfied")
NEW_GRAINS = {"unit_type": ("unit_id", "district_id", "type"),
              "category_type": ("category_id", "district_id", "type")}
BLANK = {"unit_id": 0, "district_id": 0, "category_id": 0, "type": "", "channel": ""}


def fill(apps: Any, schema_editor: Any) -> None:
    rollup = apps.get_model("insight", "OrderDailyRollup")
    fact = apps.get_model("insight", "OrderFact")
    alias = schema_editor.connection.alias
    sums = {f"s_{m}": Sum(m) for m in MEASURES}
    made = []
    for grain, kept in NEW_GRAINS.items():
        for row in (fact.objects.using(alias).order_by().values("day", *kept).annotate(**sums)):
            made.append(rollup(grain=grain, period="day", day=row["day"],
                               **{d: row[d] if d in kept else BLANK[d] for d in DIMENSIONS},
                               **{m: row[f"s_{m}"] for m in MEASURES}))
    rollup.objects.using(alias).bulk_create(made, batch_size=2000)
    months = []
    for row in (rollup.objects.using(alias).filter(period="day").order_by()
                .values("grain", *DIMENSIONS, m=TruncMonth("day")).annotate(**sums)):
        months.append(rollup(grain=row["grain"], period="month", day=row["m"],
                             **{d: row[d] for d in DIMENSIONS},
                             **{m: row[f"s_{m}"] for m in MEASURES}))
    rollup.objects.using(alias).bulk_create(months, batch_size=2000)


def empty(apps: Any, schema_editor: Any) -> None:
    rollup = apps.get_model("insight", "OrderDailyRollup")
    rollup.objects.using(schema_editor.connection.alias).exclude(period="day").delete()
    rollup.objects.using(schema_editor.connection.alias).filter(
        grain__in=list(NEW_GRAINS)).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("insight", "0009_call_rollups"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="orderdailyrollup",
                                    name="order_rollup_unique_key"),
        migrations.RemoveIndex(model_name="orderdailyrollup", name="order_rollup_unit_day"),
        migrations.AddField(
            model_name="orderdailyrollup", name="period",
            field=models.CharField(choices=[("day", "day"), ("month", "month")], default="day",
                                   max_length=5)),
        migrations.AddConstraint(
            model_name="orderdailyrollup",
            constraint=models.UniqueConstraint(
                fields=("grain", "period", "day", "unit_id", "district_id", "category_id",
                        "type", "channel"), name="order_rollup_key")),
        migrations.AddIndex(
            model_name="orderdailyrollup",
            index=models.Index(fields=["grain", "period", "unit_id", "day"],
                               name="order_rollup_unit_period")),
        migrations.RunPython(fill, empty),
    ]
