"""Long logs and large messages on the lab page (docs/protocol.md, "Large messages"): the page
says when it shows only a log's tail and pages back through the earlier lines with
``lab.logs``; it says when a message had to leave the kubectl views out. Both languages,
desktop and phone."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from .test_lab_browser import SIM_TIMEOUT, assert_local, connect, lab_link, start_shared

# 100,000 numbered lines: 588,895 characters, more
# than a frame carries (logs_truncated).
CHATTY = """\
apiVersion: v1
kind: Pod
metadata:
  name: chatty
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "seq 1 100000; sleep 3600"]
"""
LINES = 100_000
TOTAL = "588,895"
TEXTS = {
    "en": {"notice": "Long log", "earlier": "Show earlier lines", "omitted": "too large",
           "seconds": "t = 20 s"},
    "zh-hans": {"notice": "日志很长", "earlier": "显示更早的行", "omitted": "太大",
                "seconds": "t = 20 秒"},
}
VIEWPORTS = (("desktop", 1280, 900), ("phone", 390, 844))


def open_chatty(page: Page, server: str, lang: str) -> None:
    page.goto("about:blank")  # the same link again would only change the hash
    page.goto(f"{server}/{lang}/lab/{lab_link(CHATTY, t=20)}")
    connect(page)
    start_shared(page)
    expect(page.locator("#lab")).to_have_attribute("data-active", "true", timeout=SIM_TIMEOUT)
    page.locator(".kubectl-tabs [data-view='logs']").click()
    expect(page.locator("#kubectl-command")).to_have_text("kubectl logs chatty -c main")


def shown_numbers(page: Page) -> list[int]:
    text = page.locator("#kubectl-text").text_content() or ""
    return [int(line) for line in text.split("\n") if line]


def assert_consecutive(numbers: list[int]) -> None:
    assert numbers, "the log pane is empty"
    assert numbers[-1] == LINES
    assert numbers == list(range(numbers[0], LINES + 1)), "lines are missing or repeated"


def test_a_long_log_says_it_is_cut_and_pages_back_to_its_first_line(page, server, local_only,
                                                                    artifacts):
    for lang, texts in TEXTS.items():
        for name, width, height in VIEWPORTS:
            page.set_viewport_size({"width": width, "height": height})
            open_chatty(page, server, lang)
            notice = page.locator("#kubectl-truncated")
            earlier = page.locator("#kubectl-earlier")
            expect(notice).to_be_visible()
            expect(notice).to_contain_text(texts["notice"])
            expect(notice).to_contain_text(TOTAL)
            expect(earlier).to_have_text(texts["earlier"])
            # The tail starts inside a line: the page shows it from the first whole line.
            tail = shown_numbers(page)
            assert_consecutive(tail)
            assert tail[0] > 90_000
            page.screenshot(path=str(artifacts / f"lab-long-log-{lang}-{name}.png"),
                            full_page=True)
            page.locator(".pane-kubectl").screenshot(
                path=str(artifacts / f"lab-long-log-pane-{lang}-{name}.png"))
            box = earlier.bounding_box()
            assert box is not None and box["x"] + box["width"] <= width, "button off screen"
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width + 2, f"the page scrolls sideways ({scroll}px)"

            # One page back: earlier lines above, joined without a gap or a repeat, and the
            # learner's place in the pane kept.
            pane = page.locator("#kubectl-text")
            pane.evaluate("(pre) => { pre.scrollTop = 0; }")
            first_shown = pane.evaluate(
                "(pre) => pre.textContent.split('\\n')[0]")
            earlier.click()
            expect(pane).not_to_have_text(re.compile(rf"^{tail[0]}\n"), timeout=SIM_TIMEOUT)
            expect(earlier).to_be_enabled(timeout=SIM_TIMEOUT)
            more = shown_numbers(page)
            assert_consecutive(more)
            assert more[0] < tail[0]
            assert first_shown == str(tail[0])
            top_line = pane.evaluate(
                "(pre) => { const lh = pre.scrollHeight / pre.textContent.split('\\n').length;"
                " return Math.round(pre.scrollTop / lh); }")
            assert abs(more[top_line] - tail[0]) <= 2, "the lines being read moved away"
            page.locator(".pane-kubectl").screenshot(
                path=str(artifacts / f"lab-long-log-paged-{lang}-{name}.png"))

            # All the way back: the first line, and the notice goes.
            for _ in range(20):
                if not earlier.is_visible():
                    break
                before = shown_numbers(page)[0]
                earlier.click()
                expect(pane).not_to_have_text(re.compile(rf"^{before}\n"), timeout=SIM_TIMEOUT)
            expect(notice).to_be_hidden()
            assert_consecutive(shown_numbers(page))
            assert shown_numbers(page)[0] == 1
    assert_local(local_only, server)


def omit_views(page: Page) -> dict[str, bool]:
    """Relay the lab socket; while ``state["omit"]``, rewrite each snapshot and full frame as
    the server sends one too large to carry its views."""
    state = {"omit": False}

    def route(ws):
        upstream = ws.connect_to_server()

        def from_server(message):
            data = json.loads(message) if isinstance(message, str) else None
            if state["omit"] and data and data.get("type") in ("lab.snapshot", "lab.frame") \
                    and "pods" in data:
                data.pop("views", None)
                data["views_omitted"] = True
                message = json.dumps(data)
            ws.send(message)

        upstream.on_message(from_server)
        ws.on_message(lambda message: upstream.send(message))

    page.route_web_socket(re.compile(r"/ws/lab/"), route)
    return state


def test_views_left_out_of_a_large_message_are_said_to_be_from_earlier(page, server,
                                                                       artifacts):
    state = omit_views(page)
    for lang, texts in TEXTS.items():
        for name, width, height in VIEWPORTS:
            page.set_viewport_size({"width": width, "height": height})
            open_chatty(page, server, lang)
            omitted = page.locator("#kubectl-omitted")
            expect(omitted).to_be_hidden()
            state["omit"] = True
            page.locator("#scrubber").fill("40")
            expect(page.locator("#lab")).to_have_attribute("data-t", "40", timeout=SIM_TIMEOUT)
            expect(omitted).to_be_visible()
            expect(omitted).to_contain_text(texts["omitted"])
            expect(omitted).to_contain_text(texts["seconds"])
            # The views kept are the last ones the page had: the log's tail at t = 20, still
            # shown from its first whole line and still said to be a tail.
            assert not (page.locator("#kubectl-text").text_content() or "").startswith("\n")
            assert_consecutive(shown_numbers(page))
            expect(page.locator("#kubectl-truncated")).to_be_visible()
            page.locator(".pane-kubectl").screenshot(
                path=str(artifacts / f"lab-views-omitted-{lang}-{name}.png"))
            state["omit"] = False
            page.locator("#scrubber").fill("41")
            expect(page.locator("#lab")).to_have_attribute("data-t", "41", timeout=SIM_TIMEOUT)
            expect(omitted).to_be_hidden()


TICKING = CHATTY.replace("seq 1 100000; sleep 3600",
                         "seq 1 100000; i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; "
                         "done").replace("name: chatty", "name: ticking")


def test_earlier_lines_stay_while_the_log_grows(page, server, local_only):
    page.goto(f"{server}/en/lab/{lab_link(TICKING, t=20)}")
    connect(page)
    start_shared(page)
    expect(page.locator("#lab")).to_have_attribute("data-active", "true", timeout=SIM_TIMEOUT)
    page.locator(".kubectl-tabs [data-view='logs']").click()
    pane = page.locator("#kubectl-text")
    expect(page.locator("#kubectl-truncated")).to_be_visible()
    first = int((pane.text_content() or "").split("\n")[0])
    page.locator("#kubectl-earlier").click()
    expect(pane).not_to_have_text(re.compile(rf"^{first}\n"), timeout=SIM_TIMEOUT)
    paged = int((pane.text_content() or "").split("\n")[0])
    assert paged < first
    last_tick = re.findall(r"tick (\d+)", pane.text_content() or "")[-1]
    # Playing appends what the container writes; the earlier lines stay above it.
    page.locator("#speed").select_option("10")
    page.locator("#btn-play").click()
    expect(pane).not_to_have_text(re.compile(rf"tick {last_tick}\n$"), timeout=SIM_TIMEOUT)
    page.locator("#btn-pause").click()
    text = pane.text_content() or ""
    assert int(text.split("\n")[0]) == paged
    ticks = [int(n) for n in re.findall(r"tick (\d+)", text)]
    assert ticks == list(range(1, ticks[-1] + 1)) and ticks[-1] > int(last_tick)
    assert_local(local_only, server)
