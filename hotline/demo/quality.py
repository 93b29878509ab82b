"""The demo's quality inspection: the centre's call scorecard (weighted items and two fatal
items) and its sampling rules. Calls are sampled once agents have answered recorded calls."""

from __future__ import annotations

from hotline.insight.quality_models import SamplingRule, Scorecard, ScorecardItem

ITEMS = [  # (label, guidance, points, fatal)
    ("开场白与身份确认", "使用规范开场白，核实来电人称呼", 10, False),
    ("倾听与需求把握", "完整记录诉求要素：时间、地点、事件、诉求", 20, False),
    ("答复准确性", "依据知识库和政策答复，无错误", 30, False),
    ("工单记录质量", "标题、描述、分类、地址准确完整", 20, False),
    ("结束语与满意度引导", "确认问题已记录，告知受理编号和办理时限", 20, False),
    ("服务态度", "无推诿、顶撞、辱骂市民", 0, True),
    ("保密要求", "未泄露举报人身份和个人信息", 0, True),
]


def load_demo_quality() -> int:
    """The scorecard and its rules (once); returns the scorecard items created."""
    card, created = Scorecard.objects.get_or_create(
        name="12345 通话质检标准", defaults={"description": "每周每名坐席随机抽检，另抽投诉和不满意来电"})
    if not created:
        return 0
    for position, (label, guidance, points, fatal) in enumerate(ITEMS):
        ScorecardItem.objects.create(scorecard=card, position=position, label=label,
                                     guidance=guidance, points=points, fatal=fatal)
    for name, kind, n in (("每周随机抽检", SamplingRule.Kind.RANDOM, 2),
                          ("长通话抽检", SamplingRule.Kind.LONG, 1),
                          ("投诉来电抽检", SamplingRule.Kind.COMPLAINT, 1),
                          ("不满意来电抽检", SamplingRule.Kind.UNSATISFIED, 2)):
        SamplingRule.objects.create(name=name, kind=kind, per_agent_per_week=n, scorecard=card)
    return len(ITEMS)
