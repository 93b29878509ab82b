"""The contact centre takes over the desk's models (issue 11) with their rows.

The models enter this app's state on the desk's tables (no SQL), then each table is renamed
(desk_x -> contactcentre_x, ALTER TABLE ... RENAME keeps rows, sequences, indexes and foreign
keys); desk/0006 then drops them from the desk's state. The content types follow (same rows,
app_label desk -> contactcentre), so permissions granted and admin log entries keep pointing at
the right model. The state log's append-only triggers are put back under the new table's name.
"""

import django.core.validators
import django.db.models.deletion
import hotline.contactcentre.models
import hotline.core.append_only
from django.conf import settings
from django.db import migrations, models

MOVED = ["Queue", "Skill", "QueuedCall", "DeskEvent", "CallRecording", "CallCommand",
         "ScheduledCallback", "SipExtension", "AgentStatus", "QueueSkill", "AgentSkill",
         "StateChange", "OverflowRule"]

# The agents' state log refuses UPDATE and DELETE in the database (desk/0003 made the
# triggers on desk_statechange). They are dropped before the rename and made again on the new
# table under the new name, inside this migration's transaction, so no change can slip in.
PG_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION contactcentre_statechange_immutable() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'agent state changes are append-only (%% refused)', TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER contactcentre_statechange_no_update
    BEFORE UPDATE OR DELETE ON contactcentre_statechange
    FOR EACH ROW EXECUTE FUNCTION contactcentre_statechange_immutable()
    """,
]
PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS contactcentre_statechange_no_update ON contactcentre_statechange",
    "DROP FUNCTION IF EXISTS contactcentre_statechange_immutable()",
]
SQLITE_FORWARD = [
    """
    CREATE TRIGGER IF NOT EXISTS contactcentre_statechange_no_update
    BEFORE UPDATE ON contactcentre_statechange
    BEGIN SELECT RAISE(ABORT, 'agent state changes are append-only (UPDATE refused)'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS contactcentre_statechange_no_delete
    BEFORE DELETE ON contactcentre_statechange
    BEGIN SELECT RAISE(ABORT, 'agent state changes are append-only (DELETE refused)'); END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS contactcentre_statechange_no_update",
    "DROP TRIGGER IF EXISTS contactcentre_statechange_no_delete",
]

# desk/0003's triggers, as it made them (its SQL, so this app needs no import of the desk's).
DESK_PG_FORWARD = [
    """
    CREATE OR REPLACE FUNCTION desk_statechange_immutable() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'agent state changes are append-only (%% refused)', TG_OP;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER desk_statechange_no_update BEFORE UPDATE OR DELETE ON desk_statechange
    FOR EACH ROW EXECUTE FUNCTION desk_statechange_immutable()
    """,
]
DESK_PG_BACKWARD = [
    "DROP TRIGGER IF EXISTS desk_statechange_no_update ON desk_statechange",
    "DROP FUNCTION IF EXISTS desk_statechange_immutable()",
]
DESK_SQLITE_FORWARD = [
    """
    CREATE TRIGGER IF NOT EXISTS desk_statechange_no_update BEFORE UPDATE ON desk_statechange
    BEGIN SELECT RAISE(ABORT, 'agent state changes are append-only (UPDATE refused)'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS desk_statechange_no_delete BEFORE DELETE ON desk_statechange
    BEGIN SELECT RAISE(ABORT, 'agent state changes are append-only (DELETE refused)'); END
    """,
]
DESK_SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS desk_statechange_no_update",
    "DROP TRIGGER IF EXISTS desk_statechange_no_delete",
]


def _run(schema_editor, by_vendor):  # type: ignore[no-untyped-def]
    for sql in by_vendor.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


def drop_desk_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    _run(schema_editor, {"postgresql": DESK_PG_BACKWARD, "sqlite": DESK_SQLITE_BACKWARD})


def create_desk_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    _run(schema_editor, {"postgresql": DESK_PG_FORWARD, "sqlite": DESK_SQLITE_FORWARD})


def create_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    _run(schema_editor, {"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD})


def drop_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]
    _run(schema_editor, {"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD})


def _relabel(apps, schema_editor, old, new):  # type: ignore[no-untyped-def]
    """Give the content type rows of the moved models their new app label. A fresh database
    has none yet (post_migrate creates them after every migration ran)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    rows = ContentType.objects.using(schema_editor.connection.alias)
    for name in MOVED:
        model = name.lower()
        if not rows.filter(app_label=new, model=model).exists():
            rows.filter(app_label=old, model=model).update(app_label=new)


def move_content_types(apps, schema_editor):  # type: ignore[no-untyped-def]
    _relabel(apps, schema_editor, "desk", "contactcentre")


def move_content_types_back(apps, schema_editor):  # type: ignore[no-untyped-def]
    _relabel(apps, schema_editor, "contactcentre", "desk")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('desk', '0005_scheduled_callbacks'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('directory', '0003_password_policy'),
        ('orders', '0005_access_log'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Queue',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.SlugField(max_length=32, unique=True, verbose_name='code')),
                        ('name', models.CharField(max_length=64, verbose_name='name')),
                        ('sticky_wait_s', models.PositiveIntegerField(default=30, help_text='How long a caller with an open order waits for the agent who created it.', verbose_name='sticky wait (seconds)')),
                        ('wrap_up_s', models.PositiveIntegerField(default=30, verbose_name='wrap-up time (seconds)')),
                        ('ring_timeout_s', models.PositiveIntegerField(default=20, verbose_name='ring timeout (seconds)')),
                        ('aht_s', models.PositiveIntegerField(default=180, help_text='Used for the expected-wait announcement.', verbose_name='average handling time (seconds)')),
                        ('service_level_s', models.PositiveIntegerField(default=20, verbose_name='service level target (seconds)')),
                        ('active', models.BooleanField(default=True, verbose_name='active')),
                    ],
                    options={
                        'db_table': 'desk_queue',
                        'verbose_name': 'call queue',
                        'verbose_name_plural': 'call queues',
                        'ordering': ['code'],
                    },
                ),
                migrations.CreateModel(
                    name='Skill',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.SlugField(max_length=32, unique=True, verbose_name='code')),
                        ('name', models.CharField(max_length=64, verbose_name='name')),
                        ('kind', models.CharField(choices=[('language', 'Language'), ('business', 'Business line')], max_length=16, verbose_name='kind')),
                    ],
                    options={
                        'db_table': 'desk_skill',
                        'verbose_name': 'skill',
                        'verbose_name_plural': 'skills',
                        'ordering': ['kind', 'code'],
                    },
                ),
                migrations.CreateModel(
                    name='QueuedCall',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('call_ref', models.CharField(db_index=True, max_length=128, verbose_name='call id')),
                        ('caller', models.CharField(blank=True, max_length=32, verbose_name='caller number')),
                        ('priority', models.PositiveSmallIntegerField(default=0, verbose_name='priority')),
                        ('outcome', models.CharField(choices=[('waiting', 'Waiting'), ('ringing', 'Ringing an agent'), ('talking', 'With an agent'), ('completed', 'Completed'), ('abandoned', 'Abandoned'), ('overflowed', 'Overflowed'), ('withdrawn', 'Withdrawn')], default='waiting', max_length=16, verbose_name='outcome')),
                        ('queued_at', models.DateTimeField(verbose_name='queued')),
                        ('entered_at', models.DateTimeField(verbose_name='joined this queue')),
                        ('overflow_step', models.PositiveSmallIntegerField(default=0)),
                        ('offered_at', models.DateTimeField(blank=True, null=True, verbose_name='offered')),
                        ('answered_at', models.DateTimeField(blank=True, null=True, verbose_name='answered')),
                        ('ended_at', models.DateTimeField(blank=True, null=True, verbose_name='ended')),
                        ('abandoned_at', models.DateTimeField(blank=True, null=True, verbose_name='abandoned')),
                        ('overflowed_at', models.DateTimeField(blank=True, null=True, verbose_name='overflowed')),
                        ('overflow_action', models.CharField(blank=True, choices=[('queue', 'Another queue'), ('voicemail', 'Voicemail'), ('callback', 'Call-back request')], max_length=16, verbose_name='overflow to')),
                        ('wait_s', models.FloatField(blank=True, null=True, verbose_name='wait (seconds)')),
                        ('unanswered_offers', models.PositiveSmallIntegerField(default=0)),
                        ('gateway', models.CharField(blank=True, db_index=True, max_length=64, verbose_name='gateway')),
                        ('on_hold', models.BooleanField(default=False, verbose_name='on hold')),
                        ('agent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='queued_calls', to=settings.AUTH_USER_MODEL, verbose_name='agent')),
                        ('citizen', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='queued_calls', to='orders.citizen', verbose_name='citizen')),
                        ('contact', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='queued_calls', to='orders.contact', verbose_name='contact')),
                        ('queue', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='calls', to='contactcentre.queue', verbose_name='call queue')),
                        ('sticky_agent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='preferred agent')),
                    ],
                    options={
                        'db_table': 'desk_queuedcall',
                        'verbose_name': 'queued call',
                        'verbose_name_plural': 'queued calls',
                        'ordering': ['-queued_at'],
                    },
                ),
                migrations.CreateModel(
                    name='DeskEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(db_index=True, verbose_name='time')),
                        ('kind', models.CharField(choices=[('agent_state', 'Agent state changed'), ('call_offered', 'Call ringing at an agent'), ('call_answered', 'Call answered'), ('call_ended', 'Call ended'), ('call_updated', 'Call changed (hold, transfer, conference)'), ('queue_changed', 'Queue changed'), ('command_done', 'Desk command carried out')], max_length=16, verbose_name='kind')),
                        ('payload', models.JSONField(blank=True, default=dict, verbose_name='payload')),
                        ('agent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='agent')),
                        ('call', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contactcentre.queuedcall', verbose_name='call')),
                    ],
                    options={
                        'db_table': 'desk_deskevent',
                        'verbose_name': 'desk event',
                        'verbose_name_plural': 'desk events',
                        'ordering': ['id'],
                    },
                ),
                migrations.CreateModel(
                    name='CallRecording',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('file', models.FileField(max_length=255, upload_to=hotline.contactcentre.models.recording_path, verbose_name='file')),
                        ('seconds', models.FloatField(verbose_name='length (seconds)')),
                        ('size', models.PositiveIntegerField(verbose_name='size')),
                        ('sha256', models.CharField(max_length=64)),
                        ('created_at', models.DateTimeField(verbose_name='created')),
                        ('contact', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='call_recordings', to='orders.contact', verbose_name='contact')),
                        ('call', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='recordings', to='contactcentre.queuedcall', verbose_name='call')),
                    ],
                    options={
                        'db_table': 'desk_callrecording',
                        'verbose_name': 'call recording',
                        'verbose_name_plural': 'call recordings',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='CallCommand',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('gateway', models.CharField(db_index=True, max_length=64, verbose_name='gateway')),
                        ('action', models.CharField(choices=[('hold', 'Hold'), ('resume', 'Resume'), ('hangup', 'Hang up'), ('blind_transfer', 'Blind transfer'), ('consult', 'Consult (attended transfer)'), ('complete_transfer', 'Complete the transfer'), ('cancel_consult', 'Back to the caller'), ('conference', 'Three-way call'), ('emergency', 'Transfer to an emergency number'), ('listen', 'Listen in'), ('whisper', 'Whisper'), ('barge', 'Barge in')], max_length=20, verbose_name='action')),
                        ('target', models.CharField(blank=True, max_length=64, verbose_name='target')),
                        ('created_at', models.DateTimeField(verbose_name='created')),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('done', 'Done'), ('failed', 'Failed')], default='pending', max_length=8, verbose_name='status')),
                        ('done_at', models.DateTimeField(blank=True, null=True, verbose_name='done')),
                        ('result', models.CharField(blank=True, max_length=255, verbose_name='result')),
                        ('issued_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='issued by')),
                        ('call', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='commands', to='contactcentre.queuedcall', verbose_name='call')),
                    ],
                    options={
                        'db_table': 'desk_callcommand',
                        'verbose_name': 'call command',
                        'verbose_name_plural': 'call commands',
                        'ordering': ['id'],
                    },
                ),
                migrations.CreateModel(
                    name='ScheduledCallback',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('phone', models.CharField(max_length=32, verbose_name='phone')),
                        ('due_at', models.DateTimeField(verbose_name='call back by')),
                        ('note', models.TextField(blank=True, verbose_name='note')),
                        ('created_at', models.DateTimeField(verbose_name='created')),
                        ('done_at', models.DateTimeField(blank=True, null=True, verbose_name='called back')),
                        ('contact', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='orders.contact', verbose_name='contact')),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='scheduled_callbacks', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                        ('order', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='scheduled_callbacks', to='orders.order', verbose_name='work order')),
                    ],
                    options={
                        'db_table': 'desk_scheduledcallback',
                        'verbose_name': 'scheduled call back',
                        'verbose_name_plural': 'scheduled call backs',
                        'ordering': ['due_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='SipExtension',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.CharField(max_length=16, unique=True, validators=[django.core.validators.RegexValidator('^[0-9]{3,16}$', '3 to 16 digits')], verbose_name='extension')),
                        ('realm', models.CharField(default='hotline', max_length=64, verbose_name='realm')),
                        ('ha1_md5', models.CharField(blank=True, editable=False, max_length=32, verbose_name='HA1 (MD5)')),
                        ('ha1_sha256', models.CharField(blank=True, editable=False, max_length=64, verbose_name='HA1 (SHA-256)')),
                        ('enabled', models.BooleanField(default=True, verbose_name='enabled')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('agent', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='sip_extension', to=settings.AUTH_USER_MODEL, verbose_name='agent')),
                    ],
                    options={
                        'db_table': 'desk_sipextension',
                        'verbose_name': 'SIP extension',
                        'verbose_name_plural': 'SIP extensions',
                        'ordering': ['number'],
                    },
                ),
                migrations.CreateModel(
                    name='AgentStatus',
                    fields=[
                        ('agent', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='desk_status', serialize=False, to=settings.AUTH_USER_MODEL, verbose_name='agent')),
                        ('state', models.CharField(choices=[('signed_out', 'Signed out'), ('signed_in', 'Signed in'), ('idle', 'Ready for calls'), ('busy', 'Not ready'), ('ringing', 'Ringing'), ('talking', 'On a call'), ('wrap_up', 'Wrap-up')], default='signed_out', max_length=16, verbose_name='state')),
                        ('reason', models.CharField(blank=True, choices=[('rest', 'Short break'), ('meal', 'Meal'), ('meeting', 'Meeting'), ('training', 'Training'), ('outbound', 'Outbound calls'), ('paperwork', 'Order paperwork'), ('other', 'Other'), ('no_answer', 'Missed call')], max_length=16, verbose_name='reason')),
                        ('since', models.DateTimeField(verbose_name='since')),
                        ('idle_since', models.DateTimeField(blank=True, null=True, verbose_name='ready since')),
                        ('wrap_up_until', models.DateTimeField(blank=True, null=True, verbose_name='wrap-up until')),
                        ('call', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='contactcentre.queuedcall', verbose_name='current call')),
                        ('extension', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='contactcentre.sipextension', verbose_name='extension')),
                    ],
                    options={
                        'db_table': 'desk_agentstatus',
                        'verbose_name': 'agent state',
                        'verbose_name_plural': 'agent states',
                    },
                ),
                migrations.CreateModel(
                    name='QueueSkill',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('min_level', models.PositiveSmallIntegerField(default=1, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(10)], verbose_name='minimum level')),
                        ('queue', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='skills', to='contactcentre.queue', verbose_name='call queue')),
                        ('skill', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='queues', to='contactcentre.skill', verbose_name='skill')),
                    ],
                    options={
                        'db_table': 'desk_queueskill',
                        'verbose_name': 'required skill',
                        'verbose_name_plural': 'required skills',
                    },
                ),
                migrations.CreateModel(
                    name='AgentSkill',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('level', models.PositiveSmallIntegerField(default=5, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(10)], verbose_name='level')),
                        ('agent', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='skills', to=settings.AUTH_USER_MODEL, verbose_name='agent')),
                        ('skill', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='agents', to='contactcentre.skill', verbose_name='skill')),
                    ],
                    options={
                        'db_table': 'desk_agentskill',
                        'verbose_name': 'agent skill',
                        'verbose_name_plural': 'agent skills',
                    },
                ),
                migrations.CreateModel(
                    name='StateChange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(verbose_name='time')),
                        ('action', models.CharField(choices=[('sign_in', 'Sign in'), ('sign_out', 'Sign out'), ('ready', 'Ready for calls'), ('not_ready', 'Not ready'), ('offer', 'Call offered'), ('answer', 'Call answered'), ('no_answer', 'Not answered'), ('caller_gone', 'Caller hung up while ringing'), ('hang_up', 'Call ended'), ('wrap_up_end', 'Wrap-up time over')], max_length=16, verbose_name='action')),
                        ('from_state', models.CharField(choices=[('signed_out', 'Signed out'), ('signed_in', 'Signed in'), ('idle', 'Ready for calls'), ('busy', 'Not ready'), ('ringing', 'Ringing'), ('talking', 'On a call'), ('wrap_up', 'Wrap-up')], max_length=16, verbose_name='from')),
                        ('to_state', models.CharField(choices=[('signed_out', 'Signed out'), ('signed_in', 'Signed in'), ('idle', 'Ready for calls'), ('busy', 'Not ready'), ('ringing', 'Ringing'), ('talking', 'On a call'), ('wrap_up', 'Wrap-up')], max_length=16, verbose_name='to')),
                        ('reason', models.CharField(blank=True, choices=[('rest', 'Short break'), ('meal', 'Meal'), ('meeting', 'Meeting'), ('training', 'Training'), ('outbound', 'Outbound calls'), ('paperwork', 'Order paperwork'), ('other', 'Other'), ('no_answer', 'Missed call')], max_length=16, verbose_name='reason')),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='changed by')),
                        ('agent', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='state_changes', to=settings.AUTH_USER_MODEL, verbose_name='agent')),
                        ('call', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='state_changes', to='contactcentre.queuedcall', verbose_name='call')),
                    ],
                    options={
                        'db_table': 'desk_statechange',
                        'verbose_name': 'agent state change',
                        'verbose_name_plural': 'agent state changes',
                        'ordering': ['agent_id', 'at', 'id'],
                    },
                    bases=(hotline.core.append_only.AppendOnly, models.Model),
                ),
                migrations.CreateModel(
                    name='OverflowRule',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('position', models.PositiveSmallIntegerField(default=1, verbose_name='order')),
                        ('after_s', models.PositiveIntegerField(verbose_name='after (seconds in queue)')),
                        ('action', models.CharField(choices=[('queue', 'Another queue'), ('voicemail', 'Voicemail'), ('callback', 'Call-back request')], max_length=16, verbose_name='overflow to')),
                        ('only_unstaffed', models.BooleanField(default=False, verbose_name='only when nobody is signed in')),
                        ('queue', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='overflow_rules', to='contactcentre.queue', verbose_name='call queue')),
                        ('target_queue', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='overflow_sources', to='contactcentre.queue', verbose_name='target queue')),
                    ],
                    options={
                        'db_table': 'desk_overflowrule',
                        'verbose_name': 'overflow rule',
                        'verbose_name_plural': 'overflow rules',
                        'ordering': ['queue', 'position', 'after_s'],
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('action', 'queue'), _negated=True), ('target_queue__isnull', False), _connector='OR'), name='overflow_queue_has_target')],
                    },
                ),
                migrations.AddIndex(
                    model_name='queuedcall',
                    index=models.Index(fields=['outcome', 'queued_at'], name='queuedcall_outcome'),
                ),
                migrations.AddIndex(
                    model_name='callcommand',
                    index=models.Index(fields=['gateway', 'status'], name='callcommand_pending'),
                ),
                migrations.AddIndex(
                    model_name='scheduledcallback',
                    index=models.Index(fields=['created_by', 'done_at', 'due_at'], name='callback_agent_open_due'),
                ),
                migrations.AddIndex(
                    model_name='agentstatus',
                    index=models.Index(fields=['state', 'idle_since'], name='agentstatus_state_idle'),
                ),
                migrations.AddConstraint(
                    model_name='queueskill',
                    constraint=models.UniqueConstraint(fields=('queue', 'skill'), name='queue_skill_once'),
                ),
                migrations.AddConstraint(
                    model_name='agentskill',
                    constraint=models.UniqueConstraint(fields=('agent', 'skill'), name='agent_skill_once'),
                ),
                migrations.AddIndex(
                    model_name='statechange',
                    index=models.Index(fields=['agent', 'at'], name='statechange_agent_at'),
                ),
                migrations.AddIndex(
                    model_name='statechange',
                    index=models.Index(fields=['at'], name='statechange_at'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(drop_desk_triggers, create_desk_triggers),
        *[migrations.AlterModelTable(name=name, table=None) for name in MOVED],
        migrations.RunPython(create_triggers, drop_triggers),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
