"""The studio in a real browser: Playwright driving Debian's headless Chromium against ``python app.py``.

Chromium comes from the system (``/usr/bin/chromium``); when it is missing the
test installs it with apt-get (the CI machine runs as root with Debian's
package archive reachable) and fails, never skips, if that does not work.
Playwright's own browser download is not used. Every step leaves a screenshot
in ``tests/artifacts/browser/``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import soundfile as sf

from tests.helpers import ROOT, read_generated_speech, running_app

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
TIMEOUT_MS = 60_000


def ensure_chromium() -> Path:
    """``/usr/bin/chromium``, installed with apt-get when missing; fails with the reason when it cannot be."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.fail("Chromium is missing and apt-get is not available: install the 'chromium' package.")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = [[apt, "update", "-q"], [apt, "install", "-y", "-q", "--no-install-recommends", "chromium"]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            pytest.fail(f"could not install Chromium ({' '.join(step)}):\n{done.stderr[-2000:]}")
    if not CHROMIUM.exists():
        pytest.fail("apt-get installed 'chromium' but /usr/bin/chromium is still missing.")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser():
    executable = ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def studio(tmp_path_factory, tiny_base):
    """``python app.py --no-browser`` with a fresh data folder and the tiny Base checkpoint."""
    home = tmp_path_factory.mktemp("browser-home")
    with running_app(home, env={"STUDIO_MODEL": str(tiny_base), "STUDIO_LANG": "zh"}) as url:
        yield url, home


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors in the page: {errors}"


class Steps:
    """Numbered screenshots of one scenario."""

    def __init__(self, page, name: str) -> None:
        self.page = page
        self.folder = ARTIFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.n = 0

    def shot(self, label: str) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def visible_panel(page):
    """The tab panel on screen."""
    return page.locator("[role=tabpanel]:visible").first


def test_clone_a_voice_in_the_browser(page, studio, tmp_path):
    from tests.audio_fixtures import speech

    url, home = studio
    steps = Steps(page, "clone")
    reference = tmp_path / "my-voice.wav"
    sf.write(reference, speech(4.0, 24_000, seed=3), 24_000)

    # 1. open the app (Chinese by default)
    page.goto(url, wait_until="load")
    page.get_by_role("tab", name="声音库").wait_for()
    steps.shot("opened")

    # 2. switch the interface to English
    page.get_by_label("English").check()
    page.get_by_role("tab", name="Voices").wait_for()
    steps.shot("english")

    # 3. upload a reference in the Voices tab and check it
    page.get_by_role("tab", name="Voices").click()
    panel = visible_panel(page)
    panel.locator("input[type=file]").first.set_input_files(str(reference))
    panel.get_by_role("button", name="Check the recording").click()
    panel.get_by_text(re.compile(r"speech|Speech")).first.wait_for()
    panel.locator("img").first.wait_for()
    steps.shot("checked")

    # 4. trim it to the suggested window: the prepared clip gets a player of its own
    play_buttons = panel.get_by_role("button", name="Play", exact=True)
    players_before = play_buttons.count()
    panel.get_by_role("button", name="Trim and prepare").click()
    for _ in range(TIMEOUT_MS // 250):
        if play_buttons.count() > players_before:
            break
        page.wait_for_timeout(250)
    assert play_buttons.count() > players_before
    steps.shot("trimmed")

    # 5. save it as a voice, with consent
    panel.get_by_label("Voice name").first.fill("Browser voice")
    panel.get_by_label("Transcript of the reference (word for word)").fill("参考文字。")
    panel.get_by_label(re.compile("I confirm this is my own voice")).check()
    panel.get_by_role("button", name="Save to the library").click()
    panel.get_by_text("Saved voice 'Browser voice'").wait_for()
    steps.shot("saved")
    assert any((home / "voices").iterdir())

    # 6. the Clone tab: the saved voice, text with a pinned reading
    page.get_by_role("tab", name="Clone").click()
    panel = visible_panel(page)
    voice_box = panel.get_by_label("Saved voice (optional)")
    voice_box.click()
    voice_box.fill("Browser voice")
    voice_box.press("Enter")
    text_box = panel.get_by_label("Text to speak")
    text_box.fill("银行行长。")
    panel.get_by_text("Readings and pronunciation dictionary").click()
    panel.get_by_role("button", name="Check readings", exact=True).click()
    # click the second 行 (a polyphone) in the readings view, then pin a reading
    panel.locator("span.token").filter(has_text="行").nth(1).click()
    panel.locator("label").filter(has_text=re.compile(r"^\s*x[íi]ng\b")).first.click()
    page.wait_for_function("el => el.value !== '银行行长。'", arg=text_box.element_handle(), timeout=TIMEOUT_MS)
    pinned = text_box.input_value()
    steps.shot("pinned")
    assert pinned != "银行行长。" and "行" in pinned

    # 7. generate
    panel.get_by_role("button", name="Generate", exact=True).click()
    panel.get_by_text(re.compile(r"Seed \d+|seed \d+")).first.wait_for(timeout=180_000)
    steps.shot("generated")

    # 8. play: the player's Play button turns into Pause while the audio plays
    panel.get_by_role("button", name="Play", exact=True).click()
    panel.get_by_role("button", name="Pause", exact=True).wait_for()
    steps.shot("playing")

    # 9. download
    with page.expect_download() as download_info:
        panel.get_by_role("button", name="Download", exact=True).first.click()
    target = steps.folder / "result.wav"
    download_info.value.save_as(str(target))
    read_generated_speech(target)
    steps.shot("downloaded")


def test_dub_a_three_line_script_in_the_browser(page, studio, tmp_path):
    import zipfile

    from studio.voices import VoiceLibrary
    from tests.audio_fixtures import speech

    url, home = studio
    steps = Steps(page, "dubbing")
    VoiceLibrary(home / "voices").create("Dub voice", (24_000, speech(4.0, 24_000, seed=5)), "参考文字。", consent=True)
    script = tmp_path / "script.txt"
    script.write_text("第一场，大家好。\n\n第二场，今天很热。\n\n第三场，再见。\n", encoding="utf-8")

    # 1. open the Dubbing tab in English
    page.goto(url, wait_until="load")
    page.get_by_label("English").check()
    page.get_by_role("tab", name="Dubbing").click()
    panel = visible_panel(page)
    steps.shot("opened")

    # 2. import the script: three lines appear in the table
    panel.locator("input[type=file]").first.set_input_files(str(script))
    panel.get_by_text("第三场，再见。").first.wait_for(timeout=TIMEOUT_MS)
    steps.shot("imported")

    # 3. one voice for every line, then generate all
    panel.get_by_label("Default voice (for unmapped speakers)").fill("Dub voice")
    panel.get_by_role("button", name="Generate all", exact=True).click()
    panel.get_by_text(re.compile(r"Done: 3 generated")).wait_for(timeout=180_000)
    steps.shot("generated")

    # 4. build the track and download the zip
    panel.get_by_role("button", name="Build track and export", exact=True).click()
    panel.get_by_text(re.compile(r"^Track \d")).first.wait_for(timeout=120_000)
    steps.shot("built")
    zip_link = panel.locator("tr", has_text=re.compile(r"\.zip")).locator("a").first
    zip_link.wait_for(timeout=TIMEOUT_MS)
    with page.expect_download() as download_info:
        zip_link.click()
    target = steps.folder / "dub.zip"
    download_info.value.save_as(str(target))
    names = zipfile.ZipFile(target).namelist()
    assert sum(1 for n in names if re.search(r"scene\d+-audio\.mp3$", n)) == 3, names
    assert any(n.endswith(".srt") for n in names) and any(n.endswith(".wav") for n in names), names
    steps.shot("downloaded")
