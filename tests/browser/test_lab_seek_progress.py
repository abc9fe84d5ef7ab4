"""A lab long to simulate (ten containers printing the date every second), restored from a
share link at one hour: the server seeks in slices and the page says how far it got
("Advancing to 1:00:00… 42%" / "正在快进到 1:00:00…… 42%"), then shows the moment. Both
languages."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.lab.manifests import DATE_LOGGERS

from .test_lab_browser import SIM_TIMEOUT, assert_local, connect, lab_link, start_shared

TEXTS = {
    "en": re.compile(r"^Advancing to 1:00:00… \d{1,2}%$"),
    "zh-hans": re.compile(r"^正在快进到 1:00:00…… \d{1,2}%$"),
}

CLOCK_AT_ZERO = {"en": "t = 0 s", "zh-hans": "t = 0 秒"}

# Every text the progress line shows, recorded as it changes (a slice lasts half a second).
RECORD = """() => {
  window.__progress = [];
  const box = document.getElementById("seek-progress");
  new MutationObserver(() => {
    if (!box.hidden) window.__progress.push(box.textContent);
  }).observe(box, {childList: true, characterData: true, subtree: true, attributes: true});
}"""


def test_a_long_restore_shows_its_progress(page: Page, server, local_only, artifacts):
    for lang, pattern in TEXTS.items():
        page.goto("about:blank")
        page.goto(f"{server}/{lang}/lab/{lab_link(DATE_LOGGERS, t=3600)}")
        connect(page)
        page.evaluate(RECORD)
        # the clock speaks the page's language before the first frame too
        expect(page.locator("#clock")).to_have_text(CLOCK_AT_ZERO[lang])
        # the page's default example comes with its file name, "Watch for" line and guided
        # steps; they describe that example, not the shared lab
        expect(page.locator("#scenario")).to_be_visible()
        start_shared(page)
        for hidden in ("#lab-example-name", "#lab-watch", "#scenario"):
            expect(page.locator(hidden)).to_be_hidden()
        progress = page.locator("#seek-progress")
        expect(progress).to_have_text(pattern, timeout=SIM_TIMEOUT)
        page.screenshot(path=str(artifacts / f"lab-seek-progress-{lang}.png"), full_page=False)
        expect(page.locator("#lab")).to_have_attribute("data-active", "true",
                                                       timeout=SIM_TIMEOUT)
        expect(progress).to_be_hidden()
        shown = page.evaluate("window.__progress")
        assert shown and all(pattern.match(text) for text in shown), shown
        percents = [int(re.search(r"(\d+)%", text).group(1)) for text in shown]
        assert percents == sorted(percents)
        expect(page.locator("#clock")).to_contain_text("3600")
        # The moment reached: the logs' tails end with the hour's last dates.
        page.locator(".kubectl-tabs [data-view='logs']").click()
        expect(page.locator("#kubectl-text")).to_contain_text("UTC")
    assert_local(local_only, server)
