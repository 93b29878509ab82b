"""The quality inspector's journey, in a real browser: the shift monitor finds the week's
sampled call on the inspection list, plays its recording and fills in the scorecard while it
plays, saves the score; the agent reads the score and appeals; the centre administrator
decides the appeal and scores the call again. Every page passes axe-core; screenshots in
test-artifacts/screenshots/journeys/inspector-*.png."""

from __future__ import annotations

import io
import math
import struct
import wave
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.base import ContentFile

from hotline.contactcentre.models import CallRecording
from hotline.insight import quality
from hotline.insight.quality_models import Inspection
from tests.e2e.journeys import (  # noqa: F401
    expect,
    journey_browser,
    session_window,
    step,
    window,
)
from tests.insight.test_quality import WEEK, a_call, qa  # noqa: F401 - the scorecard and rule

if TYPE_CHECKING:
    from pathlib import Path

    from playwright.sync_api import Browser
    from pytest_django.fixtures import Settings
    from pytest_django.live_server_helper import LiveServer

pytestmark = [pytest.mark.e2e]


def _tone_wav(seconds: int = 6) -> bytes:
    """A real 8 kHz WAV (what the gateway records), so the browser can play it."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / 8000)))
                               for n in range(8000 * seconds)))
    return out.getvalue()


def test_score_while_playing_then_appeal_and_decide(
        live_server: LiveServer, qa: Any, journey_browser: Browser,  # noqa: F811
        settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    call = a_call(qa, qa.agent, day=24, talk_s=6)
    recording = CallRecording.objects.get(call=call)
    recording.file.save("qa.wav", ContentFile(_tone_wav()), save=True)
    assert quality.do_sample_week(WEEK) == 1
    inspection = Inspection.objects.get(call=call)
    base = live_server.url

    monitor = window(journey_browser, base, "monica")
    monitor.click("#nav-quality")
    monitor.wait_for_url("**/quality/")
    row = monitor.locator("#inspections tbody tr", has_text="王坐席")
    expect(row).to_have_count(1)
    step(monitor, "inspector-01-list")
    row.locator(f"a[href='/quality/{inspection.pk}/']").click()
    monitor.wait_for_url(f"**/quality/{inspection.pk}/")
    expect(monitor.locator("#inspection-call")).not_to_contain_text("13912345678")  # masked

    # Plays the recording and scores while it plays.
    monitor.evaluate("document.querySelector('#inspection-call audio').play()")
    monitor.wait_for_function(
        "() => { const a = document.querySelector('#inspection-call audio');"
        " return !a.paused && a.currentTime > 0.2; }", timeout=20_000)
    monitor.select_option(f"#score-item-{qa.greeting.pk}", "10")
    monitor.select_option(f"#score-item-{qa.answer.pk}", "20")
    monitor.select_option(f"#score-item-{qa.polite.pk}", "pass")
    monitor.fill("#comment", "答复不够完整，未告知办理时限")
    assert monitor.evaluate("document.querySelector('#inspection-call audio').paused") is False
    step(monitor, "inspector-02-scoring-while-playing")
    monitor.click("#score-form button[type=submit]")
    monitor.wait_for_url(f"**/quality/{inspection.pk}/")
    expect(monitor.locator("#inspection-result .result-state")).to_contain_text("75.0 / 100")
    step(monitor, "inspector-03-scored")
    monitor.context.close()

    # The agent reads the score and the comment, and appeals.
    agent = window(journey_browser, base, "alice")
    agent.goto(f"{base}/quality/{inspection.pk}/")
    expect(agent.locator("#inspection-result")).to_contain_text("答复不够完整")
    agent.fill("#reason", "该事项当时尚无办理时限的规定")
    agent.click("#appeal-form button[type=submit]")
    agent.wait_for_url(f"**/quality/{inspection.pk}/")
    expect(agent.locator("#inspection-result")).to_contain_text("该事项当时尚无办理时限的规定")
    step(agent, "inspector-04-appealed")
    agent.context.close()

    # The centre administrator (not the inspector who scored) accepts and scores again.
    admin = session_window(journey_browser, base, qa.admin)
    admin.goto(f"{base}/quality/{inspection.pk}/")
    admin.fill("#decision", "申诉成立：规定于次月发布")
    admin.select_option("#accept", "yes")
    admin.select_option(f"#decide-item-{qa.greeting.pk}", "10")
    admin.select_option(f"#decide-item-{qa.answer.pk}", "30")
    admin.select_option(f"#decide-item-{qa.polite.pk}", "pass")
    step(admin, "inspector-05-deciding")
    admin.click("#decide-form button[type=submit]")
    admin.wait_for_url(f"**/quality/{inspection.pk}/")
    expect(admin.locator("#inspection-result .result-state")).to_contain_text("100.0 / 100")
    inspection.refresh_from_db()
    assert inspection.state == Inspection.State.REVISED and inspection.decided_by == qa.admin
    step(admin, "inspector-06-decided")
    admin.context.close()
