"""Long logs in the classroom (docs/protocol.md, "Large messages"): the console, a student's
page and the projector say when they show only a log's tail and page back through the earlier
lines with ``classroom.logs``, in both languages, on a desktop and on a phone."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_classroom_browser import _teacher, _watch_errors, classroom_server
from tests.browser.test_lab_long_logs import CHATTY, LINES, TEXTS, TOTAL, VIEWPORTS

__all__ = ["classroom_server"]  # the module's own server, as the other classroom tests'
TIMEOUT = 30_000


def shown_numbers(page) -> list[int]:
    text = page.locator("#kubectl-text").text_content() or ""
    return [int(line) for line in text.split("\n") if line]


def assert_consecutive(numbers: list[int]) -> None:
    assert numbers, "the log pane is empty"
    assert numbers[-1] == LINES
    assert numbers == list(range(numbers[0], LINES + 1)), "lines are missing or repeated"


def open_logs(page) -> None:
    page.locator(".kubectl-tabs [data-view='logs']").click()
    expect(page.locator("#kubectl-command")).to_have_text("kubectl logs chatty -c main")


def page_back(page, lang: str, shot: str, artifacts) -> None:
    """The notice and the button in ``lang``; one page back keeps the place read; all the
    way back to the first line, and the notice goes. Screenshots before and after."""
    texts = TEXTS[lang]
    width = page.viewport_size["width"]
    notice = page.locator("#kubectl-truncated")
    earlier = page.locator("#kubectl-earlier")
    pane = page.locator("#kubectl-text")
    expect(notice).to_be_visible(timeout=TIMEOUT)
    expect(notice).to_contain_text(texts["notice"])
    expect(notice).to_contain_text(TOTAL)
    expect(earlier).to_have_text(texts["earlier"])
    tail = shown_numbers(page)
    assert_consecutive(tail)
    assert tail[0] > 90_000
    page.locator(".pane-kubectl").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"{shot}.png"), full_page=True)
    page.locator(".pane-kubectl").screenshot(path=str(artifacts / f"{shot}-pane.png"))
    box = earlier.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width, "button off screen"
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width + 2, f"the page scrolls sideways ({scroll}px)"

    pane.evaluate("(pre) => { pre.scrollTop = 0; }")
    earlier.click()
    expect(pane).not_to_have_text(re.compile(rf"^{tail[0]}\n"), timeout=TIMEOUT)
    expect(earlier).to_be_enabled(timeout=TIMEOUT)
    more = shown_numbers(page)
    assert_consecutive(more)
    assert more[0] < tail[0]
    top_line = pane.evaluate(
        "(pre) => { const lh = pre.scrollHeight / pre.textContent.split('\\n').length;"
        " return Math.round(pre.scrollTop / lh); }")
    assert abs(more[top_line] - tail[0]) <= 2, "the lines being read moved away"
    page.locator(".pane-kubectl").screenshot(path=str(artifacts / f"{shot}-paged.png"))
    for _ in range(20):
        if not earlier.is_visible():
            break
        before = shown_numbers(page)[0]
        earlier.click()
        expect(pane).not_to_have_text(re.compile(rf"^{before}\n"), timeout=TIMEOUT)
    expect(notice).to_be_hidden()
    numbers = shown_numbers(page)
    assert_consecutive(numbers)
    assert numbers[0] == 1


def test_console_students_and_projector_page_back_through_a_long_log(browser, classroom_server,
                                                                    artifacts):
    base = classroom_server
    errors: list[str] = []
    context, teacher = _teacher(browser, base, errors)
    teacher.click("#open-room")
    code = teacher.locator("#room-code").inner_text()
    expect(teacher.locator("#classroom")).to_have_attribute("data-connection", "open")
    teacher.evaluate("text => { const t = document.getElementById('manifest'); t.value = text;"
                     " t.dispatchEvent(new Event('input')); }", CHATTY)
    teacher.click("#btn-apply")
    expect(teacher.locator("#classroom")).to_have_attribute("data-seq", re.compile(r"\d"))
    teacher.locator("#scrubber").fill("20")
    expect(teacher.locator("#clock")).to_have_text("t = 20 s", timeout=TIMEOUT)
    open_logs(teacher)
    page_back(teacher, "en", "classroom-long-log-console-en-desktop", artifacts)

    for lang in TEXTS:
        student = browser.new_context().new_page()
        _watch_errors(student, errors)
        student.goto(f"{base}/{lang}/join/?code={code}")
        student.fill("#join-name", f"Reader {lang}")
        student.click("#join-submit")
        expect(student.locator("#me-state")).to_have_attribute("data-state", "online")
        expect(student.locator("#classroom")).to_have_attribute("data-t", "20", timeout=TIMEOUT)
        open_logs(student)
        for name, width, height in VIEWPORTS:
            student.set_viewport_size({"width": width, "height": height})
            if name != VIEWPORTS[0][0]:
                student.reload()  # the tail again
                expect(student.locator("#me-state")).to_have_attribute("data-state", "online")
                open_logs(student)
            page_back(student, lang, f"classroom-long-log-student-{lang}-{name}", artifacts)
        student.context.close()

    screen = context.new_page()
    _watch_errors(screen, errors)
    screen.goto(f"{base}/zh-hans/classroom/{code}/projector/")
    expect(screen.locator("#classroom")).to_have_attribute("data-connection", "open")
    expect(screen.locator("#kubectl-text")).to_be_visible(timeout=TIMEOUT)
    open_logs(screen)
    page_back(screen, "zh-hans", "classroom-long-log-projector-zh-hans", artifacts)
    context.close()
    assert not errors, errors
