"""The desk is the phone: Debian's chromium (Playwright) with its fake audio device playing a
700 Hz tone as the agent's microphone, the desk page on the real ASGI application, the voice
gateway with its ACD and a sipp caller playing 1400 Hz, all over loopback.

The agent signs in (the softphone registers: SDP through the desk's endpoint, DTLS-SRTP and
Opus to the gateway's aiortc peer) and goes ready; sipp calls 12345; the softphone rings in
the desk, the agent answers there; the caller's tone is what the page hears (an AnalyserNode
on the received track); the keypad and mute work; the agent hangs up from the softphone; the
call's recording holds both tones. Without a microphone the desk says so and still works.
"""

from __future__ import annotations

import subprocess
import time
from typing import TYPE_CHECKING, Any

import pytest

from hotline.contactcentre import services as desk_services
from hotline.contactcentre.models import (
    CallRecording,
    PhoneKind,
    Queue,
    QueuedCall,
    SipExtension,
    SoftphoneSession,
)
from tests.e2e.asgi_server import asgi_server  # noqa: F401
from tests.e2e.test_desk_call_browser import VoiceLab
from tests.e2e.test_portal_browser import CHROMIUM, CHROMIUM_ARGS, SHOTS, log_in, shot
from tests.portal.conftest import ensure_compiled_messages
from tests.voice.agentphone import HEARD, NOT_HEARD, PASSWORD, Scene, levels
from tests.voice.test_baresip import read_mono

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser, Page
    from pytest_django.fixtures import Settings

    from tests.conftest import City
    from tests.e2e.asgi_server import AsgiServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
DESK_HZ, CALLER_HZ = 700.0, 1400.0

# The page's ears: the received track through an AnalyserNode; ``peak`` is the loudest
# frequency (Hz) and ``level`` the spectrum (dB) near the two tones.
LISTEN = """() => {
  const pc = window.hotlineSoftphone.pc;
  const track = pc.getReceivers().map(r => r.track).find(t => t && t.kind === "audio");
  const ctx = new AudioContext();
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 8192;
  analyser.smoothingTimeConstant = 0;
  source.connect(analyser);
  ctx.resume();
  window.softphoneEars = {ctx, analyser};
  return ctx.sampleRate;
}"""
HEAR = """([a, b]) => {
  const {ctx, analyser} = window.softphoneEars;
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  const hz = i => i * ctx.sampleRate / analyser.fftSize;
  let best = 0;
  for (let i = 1; i < bins.length; i++) { if (bins[i] > bins[best]) { best = i; } }
  const near = f => Math.max(...[-2, -1, 0, 1, 2].map(
    d => bins[Math.round(f * analyser.fftSize / ctx.sampleRate) + d]));
  return {peak: hz(best), a: near(a), b: near(b), state: ctx.state};
}"""
STATS = """async () => {
  const stats = await window.hotlineSoftphone.pc.getStats();
  let inbound = 0, outbound = 0;
  stats.forEach(s => {
    if (s.type === "inbound-rtp" && s.kind === "audio") { inbound += s.bytesReceived; }
    if (s.type === "outbound-rtp" && s.kind === "audio") { outbound += s.bytesSent; }
  });
  return {inbound, outbound};
}"""


def desk_tone(path: Path) -> Path:
    subprocess.run(["sox", "-n", "-r", "48000", "-c", "1", "-b", "16", str(path), "synth", "60",
                    "sine", str(int(DESK_HZ)), "vol", "0.3"], check=True, timeout=30)
    return path


def chromium(playwright: Any, *extra: str) -> Browser:
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required", *extra])


@pytest.fixture
def media_browsers(tmp_path: Path) -> Iterator[tuple[Browser, Browser]]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    ensure_compiled_messages()
    tone = desk_tone(tmp_path / "desk-tone.wav")
    with sync_playwright() as p:
        with_mic = chromium(p, "--use-fake-ui-for-media-stream",
                            "--use-fake-device-for-media-stream",
                            f"--use-file-for-fake-audio-capture={tone}")
        # Permission granted, but the machine has no audio capture device at all.
        without_mic = chromium(p, "--use-fake-ui-for-media-stream")
        yield with_mic, without_mic
        with_mic.close()
        without_mic.close()


def new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


@pytest.fixture(autouse=True)
def _media(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def softphone_extension(city: City) -> SipExtension:
    phone = SipExtension.objects.create(number="8001", agent=city.agent,
                                        phone=PhoneKind.SOFTPHONE)
    desk_services.do_set_extension_password(phone, PASSWORD)
    return phone


def sign_in(page: Page, base: str) -> None:
    log_in(page, base, "alice")
    page.goto(f"{base}/desk/")
    page.wait_for_selector("#desk-ws[data-connected='1']")
    page.click("[data-testid=btn-sign-in]")
    page.wait_for_selector("#desk-state[data-state='signed_in']")


def test_the_desk_is_the_phone_caller_heard_in_the_browser_and_the_browser_in_the_recording(
    asgi_server: AsgiServer, city: City, media_browsers: tuple[Browser, Browser],  # noqa: F811
    tmp_path: Path,
) -> None:
    Queue.objects.create(code="general", name="综合服务", wrap_up_s=30, ring_timeout_s=15)
    softphone_extension(city)
    lab = VoiceLab()
    scene = Scene(tmp_path)
    page = new_page(media_browsers[0])
    try:
        lab.run(scene.__aenter__())
        base = asgi_server.url
        sign_in(page, base)
        page.wait_for_selector("#softphone[data-status='ready']", timeout=30_000)
        assert "8001" in scene.gateway.agents.softphones.phones
        page.click("[data-testid=btn-ready]")
        page.wait_for_selector("#desk-state[data-state='idle']")

        # sipp plays its tone for talk_ms from the gateway's answer, then waits for our BYE
        # (a BYE during the tone aborts the scenario): the agent hangs up after that.
        talk_ms = 14_000
        caller = lab.submit(scene.call(talk_ms=talk_ms, hang_up=False, tone_hz=CALLER_HZ))
        dialled = time.monotonic()
        page.wait_for_selector("#softphone[data-phase='ringing']", timeout=30_000)
        page.wait_for_selector("[data-testid=screen-pop]")
        shot(page, "softphone-01-ringing")
        page.click("[data-testid=softphone-answer]")
        page.wait_for_selector("#softphone[data-phase='talking']", timeout=15_000)
        page.wait_for_selector("[data-testid=call-bar][data-phase='talking']", timeout=15_000)
        shot(page, "softphone-02-talking")

        page.evaluate(LISTEN)
        heard: list[dict[str, Any]] = []
        for _ in range(40):
            time.sleep(0.25)
            heard.append(page.evaluate(HEAR, [CALLER_HZ, DESK_HZ]))
        # The caller's tone is what the browser hears (the loudest frequency, by far).
        hearing = [h for h in heard if abs(h["peak"] - CALLER_HZ) < 30]
        assert len(hearing) > len(heard) // 2, heard
        assert all(h["a"] > h["b"] + 20 for h in hearing), hearing
        stats = page.evaluate(STATS)
        assert stats["inbound"] > 10_000 and stats["outbound"] > 10_000, stats

        page.click("[data-testid=softphone-keypad-toggle]")  # folded by default
        page.click("[data-testid=softphone-key-5]")
        for _ in range(50):
            if scene.gateway.entries("keypad") == ["8001:5"]:
                break
            time.sleep(0.1)
        assert scene.gateway.entries("keypad") == ["8001:5"]
        page.click("[data-testid=softphone-mute]")
        assert page.evaluate("window.hotlineSoftphone.stream.getAudioTracks()[0].enabled") is False
        page.wait_for_selector("#softphone-mute[aria-pressed='true']")
        page.click("[data-testid=softphone-mute]")
        assert page.evaluate("window.hotlineSoftphone.stream.getAudioTracks()[0].enabled") is True

        # Hold from the softphone is the desk's hold command: the gateway holds the caller.
        page.click("[data-testid=softphone-hold]")
        page.wait_for_selector("#btn-hold[data-on-hold='1']", timeout=15_000)
        assert QueuedCall.objects.get().on_hold
        page.click("[data-testid=softphone-hold]")
        page.wait_for_selector("#btn-hold[data-on-hold='0']", timeout=15_000)

        time.sleep(max(0.0, dialled + talk_ms / 1000 + 1.0 - time.monotonic()))
        page.click("[data-testid=softphone-hangup]")
        code, log = caller.result(timeout=60)
        assert code == 0, log
        page.wait_for_selector("#softphone[data-phase='']", state="attached", timeout=10_000)
        page.wait_for_selector("#desk-state[data-state='wrap_up']", timeout=15_000)
        shot(page, "softphone-03-wrap-up")
        for _ in range(150):
            if CallRecording.objects.exists():
                break
            time.sleep(0.1)
    finally:
        page.context.close()
        lab.run(scene.__aexit__(None, None, None))
        lab.close()

    call = QueuedCall.objects.get()
    assert call.outcome == "completed" and call.agent == city.agent
    recording = CallRecording.objects.get()
    assert recording.contact_id == call.contact_id and recording.seconds > 6
    samples, rate = read_mono(recording.file.path)
    desk, caller_level, nobody = levels(samples, rate, DESK_HZ, CALLER_HZ, 1000.0)
    print(f"recording: desk {desk:.3g}, caller {caller_level:.3g}, 1000 Hz {nobody:.3g}")
    # Chromium's own processing of the microphone (noise suppression, gain control) takes
    # ~15 dB off a steady tone, so the desk's tone is weaker than the caller's, but clearly
    # there: far above what nobody sent.
    assert caller_level > HEARD, caller_level
    assert desk > 10 * NOT_HEARD and desk > 100 * nobody, (desk, nobody)


def test_without_a_microphone_the_desk_says_so_and_still_works(
    asgi_server: AsgiServer, city: City, media_browsers: tuple[Browser, Browser],  # noqa: F811
) -> None:
    softphone_extension(city)
    page = new_page(media_browsers[1])
    try:
        sign_in(page, asgi_server.url)
        page.wait_for_selector("#softphone[data-status='no_microphone']")
        text = page.locator("[data-testid=softphone-status]").inner_text()
        assert "麦克风" in text, text  # the Chinese message, not a browser error name
        shot(page, "softphone-04-no-microphone")
        assert not SoftphoneSession.objects.exists()  # nothing registered, nothing rings
        page.click("[data-testid=btn-ready]")  # the rest of the desk works
        page.wait_for_selector("#desk-state[data-state='idle']")
    finally:
        page.context.close()
