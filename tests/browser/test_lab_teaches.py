"""The lab teaches (issue 12): a first minute that works, narration, breakpoints, guided steps,
keyboard, layout that fits — in real Chromium, both languages, desktop and phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .test_lab_browser import connect, lab_link, start_shared

SIM_TIMEOUT = 30_000
EXAMPLE = "probes-exec-liveness"
VIEWPORTS = {"desktop": {"width": 1366, "height": 800}, "phone": {"width": 390, "height": 844}}
BAD_WORDS = re.compile(r"\b(None|null|undefined|NaN)\b")


def no_overflow(page: Page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"the page is {width} px wide in a {viewport} px viewport"


def no_bad_words(page: Page) -> None:
    text = page.locator("main").inner_text()
    found = BAD_WORDS.findall(text)
    assert not found, f"the page shows {found}"


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_first_view_has_something_running(page: Page, server, local_only, artifacts, lang,
                                          screen):
    """From the menu: the gallery is in view and the liveness example plays at 10x."""
    page.set_viewport_size(VIEWPORTS[screen])
    page.goto(f"{server}/{lang}/lab/")
    gallery = page.locator("#gallery-details")
    expect(gallery).to_have_attribute("open", "")
    expect(page.locator(".gallery-group h3").first).to_be_in_viewport()
    connect(page)
    expect(page.locator("#lab")).to_have_attribute("data-playing", "true", timeout=SIM_TIMEOUT)
    expect(page.locator("#speed")).to_have_value("10")
    # data-t is the time of the last frame; a quiet lab sends one at least every 2 s (its
    # heartbeat), so at 10x t passes 5 well within 4.5 s, and at 1x it cannot.
    page.wait_for_function(
        "() => Number(document.querySelector('#lab').dataset.t) >= 5", timeout=4500)
    expect(page.locator("#speed")).to_have_value("10")
    expect(page.locator("#explanations li").first).to_be_attached()
    no_overflow(page)
    no_bad_words(page)
    page.screenshot(path=str(artifacts / f"lab-first-view-{screen}-{lang}.png"))


def test_apply_plays_at_the_shown_speed(page: Page, server, local_only):
    page.goto(f"{server}/en/lab/?example={EXAMPLE}")
    connect(page)
    page.locator("#speed").select_option("30")
    page.evaluate("""() => { window.sent = []; const o = WebSocket.prototype.send;
      WebSocket.prototype.send = function (d) {
        window.sent.push(JSON.parse(d)); return o.call(this, d); }; }""")
    page.locator("#btn-apply").click()
    expect(page.locator("#lab")).to_have_attribute("data-playing", "true", timeout=SIM_TIMEOUT)
    plays = page.evaluate("() => window.sent.filter((m) => m.type === 'lab.play')")
    assert plays and plays[-1]["speed"] == 30
    page.wait_for_timeout(800)
    expect(page.locator("#speed")).to_have_value("30")


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_liveness_narration_and_breakpoint_at_the_restart(page: Page, server, local_only,
                                                          artifacts, lang, screen):
    """Narration names every probe failure and the kill with its grace period before the
    restart; a breakpoint on restarts pauses there. Screenshot at the restart."""
    page.set_viewport_size(VIEWPORTS[screen])
    page.goto(f"{server}/{lang}/lab/?example={EXAMPLE}")
    connect(page)
    page.locator("#breakpoints-box summary").click()
    page.locator("#breakpoints input[data-break='restart']").check()
    page.locator("#speed").select_option("60")
    page.locator("#btn-apply").click()
    lab = page.locator("#lab")
    expect(lab).to_have_attribute("data-t", "75", timeout=SIM_TIMEOUT)
    expect(lab).to_have_attribute("data-playing", "false")
    expect(page.locator("#paused-at")).to_be_visible()
    entries = page.locator("#explanations li")
    failures = page.locator("#explanations li[data-kind='probe-failure']")
    expect(failures).to_have_count(3)
    texts = [failures.nth(i).inner_text() for i in range(3)]
    for i, text in enumerate(texts, start=1):
        assert re.search(rf"{i}\D+3", text), text
    kill = page.locator("#explanations li[data-kind='kill']")
    expect(kill).to_have_count(1)
    assert "30" in kill.inner_text() and "SIGTERM" in kill.inner_text()
    kinds = [entries.nth(i).get_attribute("data-kind") for i in range(entries.count())]
    assert kinds.index("kill") < kinds.index("restart")
    expect(page.locator("#explanations li[data-kind='exit']")).to_contain_text("SIGKILL")
    if lang == "zh-hans":
        expect(kill).to_contain_text("存活探针")
    # the newest entry is in view in its list
    newest = entries.last
    visible = page.evaluate("""() => { const box = document.getElementById('explanations');
      const last = box.lastElementChild; const a = box.getBoundingClientRect();
      const b = last.getBoundingClientRect();
      return b.bottom <= a.bottom + 2 && b.top >= a.top - 2; }""")
    assert visible, "the newest narration entry is scrolled out of its list"
    expect(newest).to_be_attached()
    meter = page.locator(".probe-meter.bad").first
    expect(meter).to_have_attribute("data-level", "fine")  # a restart resets the count
    no_overflow(page)
    no_bad_words(page)
    page.locator("#states-heading").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / f"lab-liveness-restart-{screen}-{lang}.png"))
    page.screenshot(path=str(artifacts / f"lab-liveness-restart-{screen}-{lang}-full.png"),
                    full_page=True)
    # Further down, the controls stay in reach (sticky) while the story is read.
    page.locator("#timeline-heading").scroll_into_view_if_needed()
    page.mouse.wheel(0, 300)
    page.wait_for_timeout(300)
    expect(page.locator("#btn-play")).to_be_in_viewport()
    expect(page.locator("#clock")).to_be_in_viewport()
    page.screenshot(path=str(artifacts / f"lab-liveness-restart-{screen}-{lang}-timeline.png"))


def test_guided_step_checks_the_prediction(page: Page, server, local_only):
    page.goto(f"{server}/en/lab/?example={EXAMPLE}")
    connect(page)
    expect(page.locator("#scenario")).to_be_visible()
    page.locator("#speed").select_option("60")
    page.locator("#scenario-start").click()
    ask = page.locator("#scenario-ask")
    expect(ask).to_be_visible(timeout=SIM_TIMEOUT)
    expect(page.locator("#scenario-question")).to_contain_text("failures in a row")
    expect(page.locator("#lab")).to_have_attribute("data-t", "46", timeout=SIM_TIMEOUT)
    page.locator("#scenario-answer").fill("2")
    page.locator("#scenario-form button[type=submit]").click()
    verdict = page.locator("#scenario-verdict")
    expect(verdict).to_have_attribute("data-right", "false")
    expect(verdict).to_contain_text("3")
    page.locator("#scenario-answer").fill("3")
    page.locator("#scenario-form button[type=submit]").click()
    expect(verdict).to_have_attribute("data-right", "true")
    page.locator("#scenario-next").click()
    # the next step: the grace period, asked at the same moment
    expect(page.locator("#scenario-question")).to_contain_text("SIGKILL", timeout=SIM_TIMEOUT)
    page.locator("#scenario-answer").fill("30")
    page.locator("#scenario-form button[type=submit]").click()
    expect(verdict).to_have_attribute("data-right", "true")


def test_tab_from_the_header_does_not_change_the_manifest(page: Page, server, local_only):
    page.goto(f"{server}/en/lab/?example={EXAMPLE}")
    connect(page)
    content = page.locator(".cm-editor .cm-content")
    expect(content).to_contain_text("name: liveness-exec")
    before = content.inner_text()
    page.locator("header a").first.focus()
    for _ in range(40):
        page.keyboard.press("Tab")
    assert content.inner_text() == before
    # Turned on, Tab indents while typing.
    page.locator("#btn-tab-mode").click()
    expect(page.locator("#btn-tab-mode")).to_have_attribute("aria-pressed", "true")
    content.click()
    page.keyboard.press("Tab")
    assert content.inner_text() != before


ONE_SHOT = """apiVersion: v1
kind: Pod
metadata:
  name: one-shot
spec:
  restartPolicy: Never
  containers:
  - name: task
    image: busybox:1.36
    command: ["sh", "-c", "sleep 5"]
"""


def test_the_clock_stops_by_itself_and_says_so(page: Page, server, local_only):
    page.goto(f"{server}/zh-hans/lab/" + lab_link(ONE_SHOT))
    connect(page)
    start_shared(page)
    expect(page.locator("#lab")).to_have_attribute("data-active", "true", timeout=SIM_TIMEOUT)
    expect(page.locator("#validation-summary")).to_have_attribute("data-ok", "true",
                                                                 timeout=SIM_TIMEOUT)
    page.locator("#btn-apply").click()
    lab = page.locator("#lab")
    expect(lab).to_have_attribute("data-playing", "true", timeout=SIM_TIMEOUT)
    expect(lab).to_have_attribute("data-playing", "false", timeout=SIM_TIMEOUT)
    expect(page.locator("#next-event")).to_have_attribute("data-ended", "true")
    expect(page.locator("#next-event")).to_contain_text("时钟已停止")
    t = float(lab.get_attribute("data-t") or "0")
    assert 5 <= t < 30, t
    page.wait_for_timeout(1000)
    assert float(lab.get_attribute("data-t") or "0") == t
    expect(page.locator("#clock")).to_have_text(re.compile(r"t = \d+(\.\d)? 秒"))
    # the run has ended: the timeline's axis ends with it (the smallest round span past t)
    span = float(page.locator("#timeline .timeline-svg").get_attribute("data-span") or "0")
    assert span == 30, (span, t)
    spans = page.evaluate("""async () => {
      const src = document.querySelector('script[src*="js/lab/main.js"]').src;
      const { niceSpan } = await import(src.replace('main.js', 'timeline.js'));
      return [niceSpan(28, true), niceSpan(28, false), niceSpan(1200, true),
              niceSpan(1200, false), niceSpan(1000, true)]; }""")
    assert spans == [30, 60, 1200, 1500, 1050], spans
    # Play now: nothing is scheduled any more, so the page says why nothing plays.
    page.locator("#btn-play").click()
    expect(page.locator("#next-event")).to_contain_text("播放没有可显示的内容")
    page.wait_for_timeout(800)
    assert float(lab.get_attribute("data-t") or "0") == t
    expect(lab).to_have_attribute("data-playing", "false")


def test_play_after_settling_plays_on(page: Page, server, local_only):
    """A settled lab whose probes still run: Play plays on (not one tick) and says that
    nothing more is expected."""
    page.goto(f"{server}/en/lab/?example=probes-tcp-goproxy")
    connect(page)
    page.locator("#speed").select_option("60")
    page.locator("#btn-apply").click()
    lab = page.locator("#lab")
    expect(lab).to_have_attribute("data-playing", "true", timeout=SIM_TIMEOUT)
    expect(lab).to_have_attribute("data-playing", "false", timeout=60_000)
    expect(page.locator("#next-event")).to_contain_text("Nothing else will happen")
    settled_at = float(lab.get_attribute("data-t") or "0")
    page.locator("#btn-play").click()
    expect(lab).to_have_attribute("data-playing", "true", timeout=SIM_TIMEOUT)
    expect(page.locator("#next-event")).to_contain_text("Nothing more is expected")
    # a quiet lab's frames come with its heartbeat (every 2 s or so): at 60x the next one is
    # more than 60 simulated seconds on
    page.wait_for_function(
        f"() => Number(document.querySelector('#lab').dataset.t) > {settled_at + 60}",
        timeout=5000)
    assert lab.get_attribute("data-playing") == "true"


TEXT_OVERLAPS = """() => {
  const boxes = [...document.querySelectorAll('#timeline .timeline-svg text')]
    .map((n) => ({ n, b: n.getBoundingClientRect() }))
    .filter(({ b }) => b.width > 0 && b.height > 0);
  const out = [];
  for (let i = 0; i < boxes.length; i += 1) for (let j = i + 1; j < boxes.length; j += 1) {
    const a = boxes[i].b; const b = boxes[j].b;
    if (a.left < b.right - 0.5 && b.left < a.right - 0.5
        && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) {
      out.push([boxes[i].n.textContent, boxes[j].n.textContent]);
    }
  }
  return out;
}"""


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_timeline_zooms_and_its_labels_never_overlap(page: Page, server, local_only, artifacts,
                                                    lang, screen):
    """A long run (the liveness example to t = 1200: many kills and restarts): no two labels
    of the timeline overlap, whole or zoomed, and zooming keeps "now" in view."""
    page.set_viewport_size(VIEWPORTS[screen])
    page.goto(f"{server}/{lang}/lab/?example={EXAMPLE}")
    connect(page)
    page.locator("#btn-apply").click()
    lab = page.locator("#lab")
    expect(lab).to_have_attribute("data-active", "true", timeout=SIM_TIMEOUT)
    page.locator("#btn-pause").click()
    expect(lab).to_have_attribute("data-playing", "false", timeout=SIM_TIMEOUT)
    for t in (300, 1200):
        page.evaluate("""(t) => { const s = document.getElementById('scrubber');
          s.value = String(t); s.dispatchEvent(new Event('change')); }""", t)
        expect(lab).to_have_attribute("data-t", str(t), timeout=SIM_TIMEOUT)
        page.wait_for_timeout(300)
        assert page.evaluate(TEXT_OVERLAPS) == [], t
    timeline = page.locator("#timeline")
    timeline.scroll_into_view_if_needed()
    marks = page.locator("#timeline .tl-signal")
    assert marks.count() >= 10  # a kill every ~70 s: their labels had to make room
    svg = page.locator("#timeline .timeline-svg")
    whole = float(svg.get_attribute("width") or "0")
    scroller_width = page.evaluate(
        "() => document.querySelector('#timeline .tl-scroll').clientWidth")
    assert whole <= scroller_width + 1  # the whole run fits
    # the axis leaves a little room ahead of "now", not half the width (1200 s of 1800 s)
    assert float(svg.get_attribute("data-span") or "0") <= 1.25 * 1200
    page.screenshot(path=str(artifacts / f"lab-timeline-whole-{screen}-{lang}.png"))
    for level in (2, 4, 8):
        page.locator("#timeline .tl-zoom-in").click()
        expect(page.locator("#timeline .tl-zoom-level")).to_have_text(f"×{level}")
        assert page.evaluate(TEXT_OVERLAPS) == [], level
    zoomed = float(svg.get_attribute("width") or "0")
    assert zoomed > whole * 6
    # "now" is in view in the scrolled run
    in_view = page.evaluate("""() => { const s = document.querySelector('#timeline .tl-scroll');
      const now = document.querySelector('#timeline .tl-now').getBoundingClientRect();
      const box = s.getBoundingClientRect();
      return now.left >= box.left - 2 && now.right <= box.right + 2; }""")
    assert in_view
    # more labels fit when zoomed in
    assert page.locator("#timeline text.tl-mark").count() > 1
    no_overflow(page)
    page.screenshot(path=str(artifacts / f"lab-timeline-zoomed-{screen}-{lang}.png"))
    page.locator("#timeline .tl-zoom-fit").click()
    expect(page.locator("#timeline .tl-zoom-level")).to_have_text("×1")
    assert float(svg.get_attribute("width") or "0") == whole


@pytest.mark.parametrize("example", ["scheduling-gated", "pods-and-controllers-deployment",
                                     "pods-and-controllers-job"])
def test_gated_and_controller_examples_have_guided_steps(page: Page, server, local_only,
                                                         example):
    page.goto(f"{server}/zh-hans/lab/?example={example}")
    connect(page)
    steps = page.locator("#scenario-steps li")
    assert steps.count() >= 1
    expect(steps.first).to_contain_text("预测")
    page.locator("#speed").select_option("60")
    page.locator("#scenario-start").click()
    expect(page.locator("#scenario-ask")).to_be_visible(timeout=SIM_TIMEOUT)
    choice = page.locator("#scenario-choice")
    if choice.is_visible():
        answer = "Pending" if example == "scheduling-gated" else (
            "Running" if "deployment" in example else "Succeeded")
        choice.select_option(answer)
    else:
        page.locator("#scenario-answer").fill("3")
    page.locator("#scenario-form button[type=submit]").click()
    expect(page.locator("#scenario-verdict")).to_have_attribute("data-right", "true")


def test_watch_line_and_errors_in_the_page_language(page: Page, server, local_only, artifacts):
    page.set_viewport_size(VIEWPORTS["phone"])
    page.goto(f"{server}/zh-hans/lab/?example={EXAMPLE}")
    connect(page)
    expect(page.locator("#lab-watch")).to_contain_text("kubelet 杀死容器")
    # the comment inside the YAML is in the page's language too
    first_line = page.locator("#manifest").input_value().splitlines()[0]
    assert first_line.startswith("# 注意观察：") and "kubelet 杀死容器" in first_line
    broken = (page.locator("#manifest").input_value()
              .replace("periodSeconds: 5", 'periodSeconds: "5"'))
    page.goto(f"{server}/zh-hans/lab/?example={EXAMPLE}" + lab_link(broken))
    connect(page)
    start_shared(page)
    problem = page.locator("#validation-problems li.problem-error").first
    expect(problem).to_contain_text('写 5，不要写 "5"', timeout=SIM_TIMEOUT)
    expect(problem.locator(".problem-kubectl")).to_contain_text("cannot unmarshal")
    expect(problem.locator(".problem-where")).to_contain_text("22")
    no_overflow(page)
    problem.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "lab-error-phone-zh-hans.png"))
    # Picking another example asks before the edit is thrown away.
    page.locator("#gallery-details summary").click()
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.locator(".gallery a[data-example='probes-http-liveness']").click()
    assert asked and "修改将会丢失" in asked[0]
    expect(page).to_have_url(re.compile(rf"example={EXAMPLE}#lab="))


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_conditions_after_a_liveness_restart(page: Page, server, local_only, artifacts, lang,
                                             screen):
    """Ready keeps its lastTransitionTime through a liveness restart (the kubelet's rule): the
    table says when in simulated time, the page says why it is older than the restart, and
    the condition names fit a phone instead of running down one letter a line."""
    page.set_viewport_size(VIEWPORTS[screen])
    page.goto(f"{server}/{lang}/lab/?example={EXAMPLE}")
    connect(page)
    manifest = page.locator("#manifest").input_value()
    page.goto(f"{server}/{lang}/lab/?example={EXAMPLE}" + lab_link(manifest, t=80))
    connect(page)
    start_shared(page)
    lab = page.locator("#lab")
    expect(lab).to_have_attribute("data-t", "80", timeout=SIM_TIMEOUT)
    ready = page.locator("#conditions tr[data-condition='Ready']")
    expect(ready.locator(".cond-t")).to_have_text(
        "t = 0 秒" if lang == "zh-hans" else "t = 0 s")
    expect(ready.locator("time.cond-stamp")).to_have_text("2025-01-01T00:00:00Z")
    note = page.locator("#conditions .cond-note[data-note='ready-kept']")
    expect(note).to_contain_text("t = 75 秒" if lang == "zh-hans" else "t = 75 s")
    expect(note).to_contain_text("lastTransitionTime")
    # narration times are in the page's language too
    expect(page.locator("#explanations .ex-time").first).to_have_text(
        re.compile(r"t = [\d.]+ 秒" if lang == "zh-hans" else r"t = [\d.]+ s"))
    lines = page.evaluate("""() => [...document.querySelectorAll(
        '#conditions tr[data-condition] td:first-child code')].map(
          (code) => code.getClientRects().length)""")
    assert max(lines) <= 3, lines  # a word a line at worst, never a letter a line
    conditions_fit(page, "最近一次变化" if lang == "zh-hans" else "Last transition")
    no_overflow(page)
    no_bad_words(page)
    page.evaluate("""() => document.getElementById('conditions-heading')
        .scrollIntoView({ block: 'center' })""")
    page.screenshot(path=str(artifacts / f"lab-conditions-restart-{screen}-{lang}.png"))


def conditions_fit(page: Page, last_label: str) -> None:
    """Every cell of the Conditions table, the last column's included, lies inside the box
    its container shows (nothing cut off, no sideways scroll inside the pane), and the last
    transition is named, as a column heading or, on a card, above its time."""
    found = page.evaluate("""() => [...document.querySelectorAll('#conditions .conditions-scroll')]
      .map((box) => {
        const shown = box.getBoundingClientRect();
        const table = box.querySelector('table');
        const outside = [...box.querySelectorAll('td, td *, th')].filter((node) => {
          const r = node.getBoundingClientRect();
          return r.width > 0 && (r.left < shown.left - 1 || r.right > shown.right + 1);
        }).map((node) => node.className || node.tagName);
        const last = [...box.querySelectorAll('td.col-last')].map((td) => ({
          label: getComputedStyle(td, '::before').content,
          heading: getComputedStyle(box.querySelector('thead')).position !== 'absolute',
          text: td.innerText }));
        return { outside, last, sideways: [box.scrollWidth - box.clientWidth,
                                           table.scrollWidth - table.clientWidth] };
      })""")
    assert found, "no Conditions table"
    headings = page.locator("#conditions th").all_inner_texts()
    for table in found:
        assert not table["outside"], f"cut off at the pane's edge: {table['outside']}"
        assert max(table["sideways"]) <= 1, f"the table scrolls sideways: {table['sideways']}"
        assert table["last"], "no Last transition cells"
        for cell in table["last"]:
            assert re.search(r"t = \d", cell["text"]), cell
            if not cell["heading"]:  # a card: the column's name above the time
                assert last_label in cell["label"], cell
    assert any(last_label in h for h in headings)


def test_unschedulable_pod_is_narrated_in_chinese(page: Page, server, local_only, artifacts):
    """The scheduler's English message stays in kubectl's output; the narration says it in
    Chinese."""
    page.set_viewport_size(VIEWPORTS["phone"])
    page.goto(f"{server}/zh-hans/lab/?example=scheduling-unmatched-selector")
    connect(page)
    page.locator("#btn-apply").click()
    entry = page.locator("#explanations li[data-code='unschedulable']")
    expect(entry).to_have_count(1, timeout=SIM_TIMEOUT)
    text = entry.locator(".ex-text").inner_text()
    assert "2 个节点" in text and "污点" in text, text
    assert not re.search(r"nodes are available|node\(s\)|Preemption", text), text
    expect(entry.locator(".ex-cause")).to_contain_text("spec.nodeSelector")
    entry.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "lab-unschedulable-phone-zh-hans.png"))


WIDE_TEXTS = {"en": "swipe the output sideways", "zh-hans": "左右滑动"}


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_kubectl_watch_on_a_phone_says_which_columns_are_off_screen(page: Page, server,
                                                                    local_only, artifacts,
                                                                    lang):
    """``kubectl get pods -w`` keeps kubectl's columns (wrapping would break them): on a phone
    the output is wider than its pane, and the pane says so, naming the columns out of sight,
    in the page's language; on a desktop it fits and says nothing."""
    page.set_viewport_size(VIEWPORTS["phone"])
    page.goto(f"{server}/{lang}/lab/?example={EXAMPLE}")
    connect(page)
    manifest = page.locator("#manifest").input_value()
    page.goto("about:blank")
    page.goto(f"{server}/{lang}/lab/?example={EXAMPLE}" + lab_link(manifest, t=80))
    connect(page)
    start_shared(page)
    expect(page.locator("#lab")).to_have_attribute("data-t", "80", timeout=SIM_TIMEOUT)
    page.locator(".kubectl-tabs [data-view='watch']").click()
    pre = page.locator("#kubectl-text")
    hint = page.locator("#kubectl-wide")
    expect(pre).to_contain_text("1 (0s ago)")
    # kubectl's text as kubectl prints it: the heading's columns are not rewrapped.
    assert (pre.text_content() or "").startswith(
        "NAME            READY   STATUS    RESTARTS   AGE\n")
    sizes = pre.evaluate("(p) => [p.scrollWidth, p.clientWidth]")
    assert sizes[0] > sizes[1], sizes  # this output is wider than a phone
    expect(hint).to_be_visible()
    expect(hint).to_contain_text(WIDE_TEXTS[lang])
    expect(hint).to_contain_text("RESTARTS")
    expect(hint).to_contain_text("AGE")
    expect(hint).not_to_contain_text("STATUS")  # it is in sight
    expect(pre).to_have_attribute("data-wide", "true")
    box = hint.bounding_box()
    assert box is not None and box["x"] + box["width"] <= VIEWPORTS["phone"]["width"]
    no_overflow(page)
    page.locator(".pane-kubectl").scroll_into_view_if_needed()
    page.locator(".pane-kubectl").screenshot(
        path=str(artifacts / f"lab-watch-phone-{lang}.png"))
    # Swiped to the end: AGE is in sight.
    pre.evaluate("(p) => { p.scrollLeft = p.scrollWidth; }")
    page.locator(".pane-kubectl").screenshot(
        path=str(artifacts / f"lab-watch-phone-swiped-{lang}.png"))

    page.set_viewport_size(VIEWPORTS["desktop"])
    expect(hint).to_be_hidden()
    expect(pre).to_have_attribute("data-wide", "false")
    sizes = pre.evaluate("(p) => [p.scrollWidth, p.clientWidth]")
    assert sizes[0] <= sizes[1] + 1, sizes
    page.locator(".pane-kubectl").screenshot(
        path=str(artifacts / f"lab-watch-desktop-{lang}.png"))
