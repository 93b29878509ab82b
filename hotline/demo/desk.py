"""The demo's call centre: queues with skills and overflow, SIP extensions for the demo's agents
and shift monitor, so a newcomer can register a softphone and take a call at once.

Extension passwords are ``HOTLINE_DEMO_SIP_PASSWORD`` (default ``demo-sip-12345``) for every
demo extension; the extension numbers are printed by ``load_demo_desk``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from hotline.contactcentre.models import (
    AgentSkill,
    OverflowAction,
    OverflowRule,
    Queue,
    QueueSkill,
    ServiceNumber,
    SipExtension,
    Skill,
)
from hotline.contactcentre.services import do_set_extension_password
from hotline.core.roles import Role
from hotline.directory.models import User

DEFAULT_SIP_PASSWORD = "demo-sip-12345"  # noqa: S105 - the documented demo password
FIRST_EXTENSION = 8001


def demo_sip_password() -> str:
    return settings.HOTLINE_DEMO_SIP_PASSWORD


@transaction.atomic
def load_demo_desk() -> list[tuple[str, str]]:
    """Create the demo queues and extensions once; returns (extension, username) pairs."""
    if Queue.objects.exists():
        return []
    skills = {skill.code: skill for skill in Skill.objects.all()}
    general = Queue.objects.create(code="general", name="综合服务", sticky_wait_s=20,
                                   wrap_up_s=20, ring_timeout_s=20, aht_s=240)
    enterprise = Queue.objects.create(code="enterprise", name="企业服务", sticky_wait_s=20,
                                      wrap_up_s=30, ring_timeout_s=20, aht_s=300)
    for queue, code in ((general, "lang-cmn"), (enterprise, "biz-enterprise")):
        if code in skills:
            QueueSkill.objects.create(queue=queue, skill=skills[code], min_level=1)
    # Nobody free after two minutes in the enterprise line: the general line takes the call;
    # after five minutes anywhere, the caller leaves a number for a call back.
    OverflowRule.objects.create(queue=enterprise, position=1, after_s=120,
                                action=OverflowAction.QUEUE, target_queue=general)
    OverflowRule.objects.create(queue=general, position=1, after_s=300,
                                action=OverflowAction.CALLBACK)
    # Two former department hotlines folded into 12345 (seed 001): they answer with a
    # greeting of their own; the enterprise line keeps its queue.
    ServiceNumber.objects.create(number="96510", name="原市供水服务热线",
                                 greeting="您拨打的供水服务热线已并入12345政务服务便民热线。")
    ServiceNumber.objects.create(number="96150", name="原市企业服务热线", queue=enterprise,
                                 greeting="您拨打的企业服务热线已并入12345政务服务便民热线。")
    people = list(User.objects.filter(role__in=[Role.AGENT, Role.MONITOR], is_active=True)
                  .order_by("role", "username"))
    made = []
    password = demo_sip_password()
    for number, user in enumerate(people, start=FIRST_EXTENSION):
        extension = SipExtension.objects.create(number=str(number), agent=user)
        do_set_extension_password(extension, password)
        made.append((extension.number, user.username))
        if "lang-cmn" in skills:
            AgentSkill.objects.create(agent=user, skill=skills["lang-cmn"], level=5)
        if number % 3 == 0 and "biz-enterprise" in skills:
            AgentSkill.objects.create(agent=user, skill=skills["biz-enterprise"], level=6)
    return made
