"""A fax sent by a campaign answers no order (issue 13, fax campaigns)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contactcentre', '0006_call_hold_time'),
        ('orders', '0013_event_kinds_together'),
    ]

    operations = [
        migrations.AlterField(
            model_name='outboundfax',
            name='order',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='faxes', to='orders.order', verbose_name='order'),
        ),
    ]
