"""The classroom console seeking far ahead (ten containers printing the date every second,
to one hour): the server seeks in slices and tells the console how far it got
(``classroom.seeking``); the room status line says so ("Advancing to 1:00:00… 42%" /
"正在快进到 1:00:00…… 42%"), then clears when the room shows the moment; the clock
speaks the page's language ("t = 3600 秒"). Both languages."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_classroom_browser import _teacher, classroom_server
from tests.browser.test_lab_seek_progress import TEXTS
from tests.lab.manifests import DATE_LOGGERS

__all__ = ["classroom_server"]  # the module's own server, as the other classroom tests'
TIMEOUT = 60_000
CLOCK = {"en": "t = 3600 s", "zh-hans": "t = 3600 秒"}
THIRTY = {"en": "30 s", "zh-hans": "30 秒"}

# Every text the status line shows, recorded as it changes (a slice lasts half a second).
RECORD = """() => {
  window.__progress = [];
  const box = document.getElementById("room-status");
  new MutationObserver(() => {
    if (box.textContent) window.__progress.push(box.textContent);
  }).observe(box, {childList: true, characterData: true, subtree: true});
}"""


def test_the_console_shows_how_far_a_long_seek_got(browser, classroom_server, artifacts):
    base = classroom_server
    errors: list[str] = []
    for lang, pattern in TEXTS.items():
        context, teacher = _teacher(browser, base, errors, lang=lang)
        teacher.click("#open-room")
        expect(teacher.locator("#classroom")).to_have_attribute("data-connection", "open")
        teacher.evaluate("text => { const t = document.getElementById('manifest');"
                         " t.value = text; t.dispatchEvent(new Event('input')); }",
                         DATE_LOGGERS)
        teacher.click("#btn-apply")
        expect(teacher.locator("#classroom")).to_have_attribute("data-seq", re.compile(r"\d"))
        status = teacher.locator("#room-status")
        expect(status).not_to_have_text(pattern)  # "You are connected"
        teacher.evaluate(RECORD)
        teacher.locator("#scrubber").fill("3600")
        expect(status).to_have_text(pattern, timeout=TIMEOUT)
        teacher.evaluate("window.scrollTo(0, 0)")
        teacher.screenshot(path=str(artifacts / f"classroom-seek-progress-{lang}.png"))
        expect(teacher.locator("#clock")).to_have_text(CLOCK[lang], timeout=TIMEOUT)
        expect(status).to_have_text("")  # the moment is shown: the line goes
        expect(teacher.locator("#classroom")).to_have_attribute("data-t", "3600")
        shown = teacher.evaluate("window.__progress")
        assert shown and all(pattern.match(text) for text in shown), shown
        percents = [int(re.search(r"(\d+)%", text).group(1)) for text in shown]
        assert percents == sorted(percents)
        assert len(set(percents)) > 1, percents  # it moved on while the page watched
        # the console's other durations speak the page's language too
        for select in ("#countdown-select", "#predict-seconds"):
            expect(teacher.locator(f"{select} option:checked")).to_have_text(THIRTY[lang])
        teacher.locator("#clock").scroll_into_view_if_needed()
        teacher.screenshot(path=str(artifacts / f"classroom-seek-done-{lang}.png"))
        context.close()
    assert not errors, errors
