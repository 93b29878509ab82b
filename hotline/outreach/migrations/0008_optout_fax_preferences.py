"""Issue 13 (opt-out, fax campaigns): the preference change log, campaigns opt-out by default,
the fax channel and a fax recipient's ``contactcentre.OutboundFax``, whose ``order`` becomes
optional (a campaign's fax answers no order).

That last change is contactcentre's table altered from here: this branch was given outreach's
0008 as its only migration, and the two belong together (no fax campaign without it). The
operation below applies Django's own AlterField to the contactcentre app, so the migration
state and ``makemigrations --check`` agree with ``contactcentre.models``."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class AlterFieldOfApp(migrations.AlterField):
    """AlterField on another app's model (``target_app``), state and schema both."""

    def __init__(self, target_app: str, *args, **kwargs):
        self.target_app = target_app
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        return name, args, {"target_app": self.target_app, **kwargs}

    def state_forwards(self, app_label, state):
        super().state_forwards(self.target_app, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        super().database_forwards(self.target_app, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        super().database_backwards(self.target_app, schema_editor, from_state, to_state)

    def describe(self):
        return f"Alter field {self.name} on {self.target_app}.{self.model_name}"


class Migration(migrations.Migration):

    dependencies = [
        ('contactcentre', '0006_call_hold_time'),
        ('orders', '0013_event_kinds_together'),
        ('outreach', '0007_campaigns_polls'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AlterFieldOfApp(
            "contactcentre",
            model_name='outboundfax',
            name='order',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='faxes', to='orders.order', verbose_name='order'),
        ),
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
