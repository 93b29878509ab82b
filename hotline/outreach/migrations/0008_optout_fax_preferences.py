"""Issue 13 (opt-out, fax campaigns): the preference change log, campaigns opt-out by default,
the fax channel and a fax recipient's ``contactcentre.OutboundFax`` (whose ``order`` became
optional in contactcentre 0007: a campaign's fax answers no order)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('contactcentre', '0007_outbound_fax_without_order'),
        ('orders', '0013_event_kinds_together'),
        ('outreach', '0007_campaigns_polls'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='recipient',
            name='fax',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='contactcentre.outboundfax', verbose_name='fax'),
        ),
        migrations.AlterField(
            model_name='campaign',
            name='channel',
            field=models.CharField(choices=[('voice', 'Call, synthesized voice'), ('recording', 'Call, recorded voice'), ('sms', 'SMS'), ('email', 'Email'), ('fax', 'Fax')], max_length=10, verbose_name='channel'),
        ),
        migrations.AlterField(
            model_name='contactpreference',
            name='campaigns',
            field=models.BooleanField(default=True, verbose_name='agrees to campaigns and polls'),
        ),
        migrations.CreateModel(
            name='PreferenceChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('via', models.CharField(choices=[('email_link', 'The citizen, by the link in a mail'), ('phone_code', 'The citizen, after an SMS code'), ('one_click', "The citizen's mail program (one-click unsubscribe)"), ('staff', 'Staff')], max_length=12, verbose_name='changed by')),
                ('before', models.JSONField(default=dict, verbose_name='before')),
                ('after', models.JSONField(default=dict, verbose_name='after')),
                ('at', models.DateTimeField(db_index=True, verbose_name='changed')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='staff member')),
                ('citizen', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='preference_changes', to='orders.citizen', verbose_name='citizen')),
            ],
            options={
                'verbose_name': 'preference change',
                'verbose_name_plural': 'preference changes',
                'ordering': ['-at', '-pk'],
            },
        ),
    ]
