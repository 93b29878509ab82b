"""The survey call's flow is valid for the gateway's IVR loader, and its keys are the ones
the survey reads (tests may import voice; outreach does not)."""

from __future__ import annotations

from hotline.outreach.survey_steps import RESOLVED_KEYS, SATISFACTION_KEYS
from hotline.outreach.surveys import SURVEY_FLOW, survey_flow
from hotline.voice.ivr.flow import SayDigits, build_flow, load_flow


def test_the_survey_flow_loads_and_asks_what_the_survey_reads() -> None:
    flow = load_flow(SURVEY_FLOW)
    assert build_flow(survey_flow()).nodes.keys() == flow.nodes.keys()
    by_var = {node.var: node for node in flow.nodes.values() if node.var}
    assert set(by_var["resolved"].choices) == set(RESOLVED_KEYS)
    assert set(by_var["satisfaction"].choices) == set(SATISFACTION_KEYS)
    assert "满意请按1，基本满意请按2，不满意请按3" in by_var["satisfaction"].prompt[0].text  # type: ignore[union-attr]
    assert by_var["comment"].type == "record"
    intro = flow.nodes[flow.start]
    assert SayDigits("number") in intro.prompt  # the acceptance number, from the variables
    assert not any(node.type in ("service", "transfer") for node in flow.nodes.values())
