"""Desk fixtures: queues with skills, the fixture city's agents with skill levels."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hotline.contactcentre.models import AgentSkill, Queue, QueueSkill, Skill, SkillKind
from hotline.core.roles import Role
from hotline.directory.models import User

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


@pytest.fixture
def desk(city: Any) -> Any:
    c = city
    c.cmn = Skill.objects.create(code="cmn", name="普通话", kind=SkillKind.LANGUAGE)
    c.yue = Skill.objects.create(code="yue", name="粤语", kind=SkillKind.LANGUAGE)
    c.ent = Skill.objects.create(code="enterprise", name="企业服务", kind=SkillKind.BUSINESS)
    c.general = Queue.objects.create(code="general", name="综合", sticky_wait_s=30, wrap_up_s=15)
    QueueSkill.objects.create(queue=c.general, skill=c.cmn, min_level=1)
    c.cantonese = Queue.objects.create(code="cantonese", name="粤语", wrap_up_s=0)
    QueueSkill.objects.create(queue=c.cantonese, skill=c.yue, min_level=3)
    c.bob = User.objects.create_user(username="bob", password="pw-bob", role=Role.AGENT,
                                     unit=c.centre, display_name="张坐席")
    for user, skills in ((c.agent, {c.cmn: 5}), (c.sub_agent, {c.cmn: 8}),
                         (c.bob, {c.cmn: 3, c.yue: 6})):
        for skill, level in skills.items():
            AgentSkill.objects.create(agent=user, skill=skill, level=level)
    return c
