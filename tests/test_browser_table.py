"""The dubbing lines table on a laptop screen, measured in a real browser at 1440x900 and 1280x720 in both languages.

Every header on one line, every column inside the window (nothing pushed off screen), the long
text wrapping inside its column while the short columns keep their values on one line. The
screenshots are left in pytest's temporary folder.
"""

from __future__ import annotations

import pytest

from studio.ui.dubbing_tab import _COLUMNS
from studio.ui.i18n_tables import columns
from tests.helpers import running_app
from tests.test_browser import CHROMIUM_ARGS, TIMEOUT_MS, ensure_chromium, visible_panel

pytestmark = pytest.mark.slow

LONG = "这一场的旁白很长，用来检查台词一列会在自己的宽度里换行，而不是把后面的列挤出屏幕。" * 3
SCRIPT = "scene,speaker,text,emotion,duration,start,end\n" + "".join(
    f"{n},Narrator,{LONG},happy,12.25,{n * 20}.5,{n * 20 + 12}.75\n" for n in range(1, 4)
)

#: One frame's worth of geometry: each header's text box and right edge, the table's scroll sizes, each row's cells.
MEASURE = """root => {
  const lineHeight = parseFloat(getComputedStyle(root.querySelector('th span.header')).lineHeight);
  const viewport = root.querySelector('.virtual-table-viewport');
  const headers = [...root.querySelectorAll('thead th.header-cell')].filter(th => th.getBoundingClientRect().height > 0)
    .map(th => ({text: th.innerText.trim(), right: th.getBoundingClientRect().right,
                 height: th.querySelector('span.header').getBoundingClientRect().height}));
  const rows = [...root.querySelectorAll('.virtual-row')].filter(r => r.getBoundingClientRect().height > 0)
    .map(r => [...r.querySelectorAll('.body-cell')].map(c => {
      const span = c.querySelector('span');
      return {text: c.innerText.trim(), right: c.getBoundingClientRect().right,
              height: span ? span.getBoundingClientRect().height : 0};
    }));
  return {lineHeight, headers, rows, window: window.innerWidth,
          scrollWidth: viewport.scrollWidth, clientWidth: viewport.clientWidth};
}"""


@pytest.fixture(scope="module")
def browser():
    executable = ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory, tiny_base):
    """One app for every size and language (the language is switched per page, as a user does)."""
    home = tmp_path_factory.mktemp("table-home")
    script = home / "script.csv"
    script.write_text(SCRIPT, encoding="utf-8")
    with running_app(home, env={"STUDIO_MODEL": str(tiny_base), "STUDIO_LANG": "zh"}) as url:
        yield url, script


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", [(1440, 900), (1280, 720)], ids=["1440x900", "1280x720"])
def test_the_lines_table_fits_the_screen(browser, served, tmp_path, lang, size):
    url, script = served
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(url, wait_until="load")
        if lang == "en":
            page.get_by_label("English").check()
        page.get_by_role("tab", name="Dubbing" if lang == "en" else "配音").click()
        panel = visible_panel(page)
        panel.locator("input[type=file]").first.set_input_files(str(script))
        panel.get_by_text("72.75").first.wait_for()  # the third line's end: every row is in
        table = panel.locator(".studio-fitted-table").first
        table.scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / f"lines-{lang}-{width}x{height}.png"), full_page=True)
        geometry = table.evaluate(MEASURE)
    finally:
        context.close()
    assert errors == [], errors

    line = geometry["lineHeight"]
    headers = geometry["headers"]
    assert [h["text"] for h in headers] == columns(_COLUMNS, lang)
    for header in headers:
        assert header["height"] < 1.5 * line, f"header {header['text']!r} wraps: {header['height']} px tall"
        assert header["right"] <= geometry["window"], f"column {header['text']!r} ends off screen"
    assert geometry["scrollWidth"] <= geometry["clientWidth"] + 1, "the table scrolls sideways"

    text_column = _COLUMNS.index("col_text")
    short = [
        _COLUMNS.index(k) for k in ("col_id", "col_speaker", "col_emotion", "col_duration", "col_start", "col_end")
    ]
    assert len(geometry["rows"]) == 3
    for row in geometry["rows"]:
        assert row[text_column]["height"] >= 2 * line, "the long text does not wrap"
        assert max(cell["right"] for cell in row) <= geometry["window"]
        for i in short:
            assert row[i]["text"], f"column {i} is empty"
            assert row[i]["height"] < 1.5 * line, f"{row[i]['text']!r} wraps in a short column"
