"""The desk's models moved to the contact centre (issue 11): contactcentre/0001 took them over
with their tables and rows; here they leave the desk's migration state only (no SQL)."""

from django.db import migrations

# Models that point at others first, so no state is left with a dangling relation.
MOVED = ["AgentSkill", "AgentStatus", "CallCommand", "CallRecording", "DeskEvent",
         "ScheduledCallback", "StateChange", "OverflowRule", "QueueSkill", "QueuedCall",
         "SipExtension", "Skill", "Queue"]


class Migration(migrations.Migration):
    dependencies = [
        ("desk", "0005_scheduled_callbacks"),
        ("contactcentre", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name=name) for name in MOVED],
            database_operations=[],
        ),
    ]
