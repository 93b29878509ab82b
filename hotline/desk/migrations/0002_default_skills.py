"""The skills every 12345 centre starts with (SPEC §2): languages and business lines. Centres
add their own dialects and lines in the admin."""

from django.db import migrations

SKILLS = [
    ("lang-cmn", "普通话", "language"),
    ("lang-yue", "粤语", "language"),
    ("lang-en", "English", "language"),
    ("lang-dialect", "本地方言", "language"),
    ("biz-general", "综合咨询投诉", "business"),
    ("biz-enterprise", "企业服务", "business"),
]


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    Skill = apps.get_model("desk", "Skill")
    for code, name, kind in SKILLS:
        Skill.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})


class Migration(migrations.Migration):
    dependencies = [("desk", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
