"""The order keeps its last return's time (the centre's returns queue sorts by it)."""

from typing import Any

from django.db import migrations, models
from django.db.models import Exists, OuterRef, Subquery


def fill_returned_at(apps: Any, schema_editor: Any) -> None:
    """Every order ever returned gets the time of its latest return event."""
    Order = apps.get_model("orders", "Order")
    OrderEvent = apps.get_model("orders", "OrderEvent")
    returns = OrderEvent.objects.filter(order=OuterRef("pk"), action="return")
    Order.objects.filter(Exists(returns)).update(
        returned_at=Subquery(returns.order_by("-seq").values("created_at")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0017_citizen_phone_reversed"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="returned_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last returned"),
        ),
        migrations.RunPython(fill_returned_at, migrations.RunPython.noop),
    ]
