"""The lab page in real Chromium against Daphne and the lab websocket (docs/protocol.md).

Every test needs the websocket consumer at ws/lab/; when it is missing the tests fail at
``connect`` with a message that says so, instead of timing out somewhere later.
"""

from __future__ import annotations

import base64
import json
import re
import zlib

import pytest
from playwright.sync_api import Page, expect

from tests.lab.manifests import NAMESPACED

EXAMPLE = "probes-exec-liveness"
LANE = "liveness-exec/liveness"
SIM_TIMEOUT = 20_000


def assert_local(urls: list[str], base: str) -> None:
    foreign = [u for u in urls if not (u.startswith(base) or u.startswith("data:")
                                       or u.startswith(base.replace("http", "ws", 1)))]
    assert not foreign, f"requests left the local server: {foreign}"


def connect(page: Page) -> None:
    """Wait for the page's websocket to say hello; fail clearly when the consumer is absent."""
    try:
        expect(page.locator("#lab-connection")).to_have_attribute(
            "data-state", "open", timeout=10_000)
    except AssertionError:
        state = page.locator("#lab-connection").get_attribute("data-state")
        pytest.fail(
            "the lab page could not talk to the simulator over ws/lab/ (connection state "
            f"{state!r}): is the websocket consumer (podlab/lab/consumers.py) routed in "
            "podlab/routing.py?"
        )


def apply(page: Page) -> None:
    """Apply (which starts playing at the shown speed), then pause so the test drives time."""
    page.locator("#btn-apply").click()
    expect(page.locator("#lab")).to_have_attribute("data-active", "true", timeout=SIM_TIMEOUT)
    expect(page.locator("#lab")).to_have_attribute("data-playing", "true", timeout=SIM_TIMEOUT)
    page.locator("#btn-pause").click()
    expect(page.locator("#lab")).to_have_attribute("data-playing", "false", timeout=SIM_TIMEOUT)
    page.locator("#scrubber").fill("0")
    expect(page.locator("#lab")).to_have_attribute("data-t", "0", timeout=SIM_TIMEOUT)


def lab_t(page: Page) -> float:
    return float(page.locator("#lab").get_attribute("data-t") or "0")


def run_until(page: Page, locator, *, text: str | re.Pattern) -> None:
    """Play at 'instant' speed until ``locator`` shows ``text``, then pause."""
    page.locator("#speed").select_option("instant")
    page.locator("#btn-play").click()
    expect(locator).to_contain_text(text, timeout=SIM_TIMEOUT)
    if page.locator("#lab").get_attribute("data-playing") == "true":
        page.locator("#btn-pause").click()
    expect(page.locator("#lab")).to_have_attribute("data-playing", "false")


def step_until_explained(page: Page) -> None:
    """Step until the first transition is explained (the first steps may only pull images)."""
    for _ in range(6):
        page.locator("#btn-step").click()
        try:
            expect(page.locator("#explanations li").first).to_be_visible(timeout=2_000)
            return
        except AssertionError:
            continue
    expect(page.locator("#explanations li").first).to_be_visible()


def kubectl(page: Page, view: str) -> str:
    page.locator(f".kubectl-tabs [data-view='{view}']").click()
    return page.locator("#kubectl-text").text_content() or ""


def lab_link(manifest: str, *, seed: int = 0, actions: list | None = None, t: float = 0) -> str:
    """A share link in the page's plain form (#lab=p + base64url JSON)."""
    payload = json.dumps({"m": manifest, "s": seed, "a": actions or [], "t": t}).encode()
    return "#lab=p" + base64.urlsafe_b64encode(payload).decode().rstrip("=")


def start_shared(page: Page) -> None:
    """A share link asks first: start the lab it holds."""
    page.locator("#share-confirm-start").click()
    expect(page.locator("#share-confirm")).to_be_hidden()


def test_a_share_link_asks_before_it_runs(page, server, local_only, artifacts):
    actions = [{"t": 3, "action": "kill", "pod": "quiet", "container": "main",
                "signal": "TERM"}]
    for lang, start, cancel in (("en", "Start this lab", "Do not run it"),
                                ("zh-hans", "启动这个实验", "不运行")):
        for width, height, name in ((1280, 900, "desktop"), (390, 844, "phone")):
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{server}/{lang}/lab/{lab_link(QUIET, seed=7, actions=actions, t=12)}")
            connect(page)
            confirm = page.locator("#share-confirm")
            expect(confirm).to_be_visible()
            expect(page.locator("#share-confirm-seed")).to_have_text("7")
            expect(page.locator("#share-confirm-t")).to_contain_text("12")
            expect(page.locator("#share-confirm-actions li")).to_have_count(1)
            expect(page.locator("#share-confirm-actions li")).to_contain_text("kill")
            expect(page.locator("#share-confirm-manifest")).to_contain_text("name: quiet")
            expect(page.locator("#share-confirm-start")).to_have_text(start)
            expect(page.locator("#share-confirm-cancel")).to_have_text(cancel)
            page.screenshot(path=str(artifacts / f"lab-share-confirm-{lang}-{name}.png"),
                            full_page=True)
            # Nothing ran: no lab, nothing restored.
            page.wait_for_timeout(500)
            expect(page.locator("#lab")).to_have_attribute("data-active", "false")
    # Declining keeps the editor and drops the link.
    page.locator("#share-confirm-cancel").click()
    expect(page.locator("#share-confirm")).to_be_hidden()
    assert "#lab=" not in page.url
    expect(page.locator("#lab")).to_have_attribute("data-active", "false")
    # Starting restores the shared moment.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{server}/en/lab/{lab_link(QUIET, seed=7, actions=actions, t=12)}")
    connect(page)
    start_shared(page)
    expect(page.locator("#lab")).to_have_attribute("data-active", "true", timeout=SIM_TIMEOUT)
    assert lab_t(page) == pytest.approx(12, abs=0.01)
    assert_local(local_only, server)


def test_example_restarts_rewinds_and_terminates(page, server, local_only, artifacts):
    # Open the example from its lesson.
    page.goto(server + "/en/lessons/probes/")
    page.locator(f"figure#example-{EXAMPLE} a", has_text="Open in the lab").click()
    expect(page).to_have_url(re.compile(rf"/en/lab/\?example={EXAMPLE}$"))
    expect(page.locator(".cm-editor .cm-content")).to_contain_text("name: liveness-exec")
    connect(page)
    summary = page.locator("#validation-summary")
    expect(summary).to_have_attribute("data-ok", "true", timeout=SIM_TIMEOUT)

    apply(page)
    figure = page.locator(f".container-figure[data-container='{LANE}']")
    expect(figure).to_be_visible()
    expect(figure.locator(".sd-waiting.lit")).to_have_count(1, timeout=SIM_TIMEOUT)

    # Three failed liveness probes later the kubelet kills the container; it restarts.
    run_until(page, figure.locator(".sd-badges"), text="restarts: 1")
    expect(figure.locator("path.sd-arrow.taken")).to_have_count(1)
    lane = page.locator(f".tl-lane[data-lane='{LANE}']")
    expect(lane.locator(".tl-exit")).to_have_count(1)
    expect(lane.locator(".tl-probe.bad").first).to_be_attached()
    expect(lane.locator("text.tl-mark", has_text="SIGTERM").first).to_be_attached()
    expect(lane.locator("text.tl-mark", has_text="SIGKILL").first).to_be_attached()
    watch = kubectl(page, "watch")
    assert re.search(r"liveness-exec\s+\d/1\s+\S+\s+1 ", watch), watch
    assert "Killing" in kubectl(page, "events")
    assert re.search(r"Restart Count:\s+1", kubectl(page, "describe"))
    explained = page.locator("#explanations li[data-rule='liveness.kill']").first
    expect(explained).to_be_visible()
    expect(explained.locator("a.lesson-link")).to_have_attribute(
        "href", re.compile(r"^/en/lessons/probes/#"))
    page.screenshot(path=str(artifacts / "lab-restart-en.png"), full_page=True)

    # A link to this moment rebuilds the same lab in another tab.
    page.locator("#btn-share").click()
    expect(page.locator("#share-url")).to_have_value(re.compile(r"/en/lab/#lab=[zp]"))
    link = page.locator("#share-url").input_value()
    t_shared = lab_t(page)
    other = page.context.new_page()
    other.goto(link)
    connect(other)
    start_shared(other)
    expect(other.locator("#lab")).to_have_attribute("data-active", "true", timeout=SIM_TIMEOUT)
    assert lab_t(other) == pytest.approx(t_shared, abs=0.01)
    badges = other.locator(f".container-figure[data-container='{LANE}'] .sd-badges")
    expect(badges).to_contain_text("restarts: 1")
    other.close()

    # Rewind with the scrubber: before the first kill nothing has restarted.
    page.locator("#scrubber").fill("20")
    expect(page.locator("#lab")).to_have_attribute("data-t", "20", timeout=SIM_TIMEOUT)
    expect(figure.locator(".sd-badges")).to_contain_text("restarts: 0")
    expect(lane.locator(".tl-exit")).to_have_count(0)
    expect(figure.locator(".sd-running.lit")).to_have_count(1)

    # Delete the Pod with a 5 s grace period: Killing, SIGTERM, then SIGKILL (sh ignores TERM).
    page.locator("#delete-grace").fill("5")
    page.locator("#btn-delete").click()
    expect(page.locator("#lab-error")).to_be_hidden()
    expect(page.locator("#lab")).to_have_attribute("data-t", "20")
    # The deletion takes effect at once: Killing, Terminating, SIGTERM and the grace countdown.
    sigterm = lane.locator("text.tl-mark", has_text="SIGTERM").first
    expect(sigterm).to_be_attached(timeout=SIM_TIMEOUT)
    expect(lane.locator(".tl-grace")).to_have_count(1)
    expect(page.locator("#kubectl-text")).to_contain_text("Terminating")
    expect(lane.locator(".tl-countdown")).to_contain_text("grace", timeout=SIM_TIMEOUT)
    page.locator("#btn-step").click()
    run_until(page, page.locator("#explanations"), text=re.compile(r"Terminated"))
    expect(page.locator("#explanations li[data-rule='delete.kill']").first).to_be_visible()
    expect(lane.locator("text.tl-mark", has_text="SIGKILL")).to_have_count(1)
    exit_mark = lane.locator(".tl-exit")
    expect(exit_mark).to_have_count(1)
    page.screenshot(path=str(artifacts / "lab-delete-en.png"), full_page=True)
    assert_local(local_only, server)


def test_language_switch_keeps_the_example(page, server, local_only, artifacts):
    page.goto(f"{server}/en/lab/?example={EXAMPLE}")
    connect(page)
    page.locator("button.lang-button[data-lang='zh-hans']").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page).to_have_url(re.compile(rf"/zh-hans/lab/\?example={EXAMPLE}$"))
    expect(page.locator("h1")).to_have_text("实验室")
    expect(page.locator(".cm-editor .cm-content")).to_contain_text("name: liveness-exec")
    connect(page)
    apply(page)
    step_until_explained(page)
    href = page.locator("#explanations a.lesson-link").first.get_attribute("href")
    assert href and href.startswith("/zh-hans/lessons/")
    page.screenshot(path=str(artifacts / "lab-zh-hans.png"), full_page=True)
    page.locator("button.lang-button[data-lang='en']").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_local(local_only, server)


HOSTILE = """apiVersion: v1
kind: Pod
metadata:
  name: hostile
  annotations:
    note: "<img src=x onerror=alert(1)>"
spec:
  containers:
  - name: shell
    image: busybox:1.36
    command:
    - sh
    - -c
    - "echo '<script>alert(2)</script>'; echo '<img src=x onerror=alert(3)>'; sleep 3600"
"""

HOSTILE_NAME = HOSTILE.replace("name: hostile", 'name: "<img src=x onerror=alert(4)>"')


def test_html_in_a_manifest_is_shown_as_text(page, server, local_only, artifacts):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # A name that is HTML is rejected by validation; the message shows it as text.
    page.goto(f"{server}/en/lab/{lab_link(HOSTILE_NAME)}")
    connect(page)
    start_shared(page)
    problems = page.locator("#validation-problems")
    expect(problems).to_contain_text("<img src=x onerror=alert(4)>", timeout=SIM_TIMEOUT)
    expect(page.locator("#lab")).to_have_attribute("data-active", "false")

    # Commands and annotations with HTML: the lab runs, and logs/describe show the text.
    page.goto(f"{server}/en/lab/{lab_link(HOSTILE)}")
    connect(page)
    start_shared(page)
    expect(page.locator("#lab")).to_have_attribute("data-active", "true", timeout=SIM_TIMEOUT)
    page.locator("#btn-play").click()
    running = page.locator(".container-figure[data-container='hostile/shell'] .sd-running.lit")
    expect(running).to_have_count(1, timeout=SIM_TIMEOUT)
    page.locator("#btn-pause").click()
    logs = kubectl(page, "logs")
    assert "<script>alert(2)</script>" in logs
    assert "<img src=x onerror=alert(3)>" in logs
    assert "<img src=x onerror=alert(1)>" in kubectl(page, "describe")
    page.screenshot(path=str(artifacts / "lab-hostile-manifest.png"), full_page=True)

    assert page.locator("#lab img, #lab script").count() == 0
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("script:not([src]):not([type])").count() == 0
    assert not dialogs, f"a dialog opened: {dialogs}"
    assert_local(local_only, server)


def test_keyboard_and_reconnect(page, server, local_only):
    sockets = []

    def route(ws):
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r"/ws/lab/"), route)
    page.goto(f"{server}/en/lab/?example={EXAMPLE}")
    connect(page)
    apply(page)

    # Shortcuts work outside form fields: → steps, Space plays and pauses.
    page.locator("#states-heading").click()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#next-event")).not_to_have_text("", timeout=SIM_TIMEOUT)
    t_before = lab_t(page)
    page.keyboard.press("ArrowRight")
    expect(page.locator("#lab")).not_to_have_attribute("data-t", str(t_before), timeout=SIM_TIMEOUT)
    page.locator("#speed").select_option("1")
    page.locator("#states-heading").click()
    page.keyboard.press("Space")
    expect(page.locator("#lab")).to_have_attribute("data-playing", "true")
    page.keyboard.press("Space")
    expect(page.locator("#lab")).to_have_attribute("data-playing", "false")
    page.locator("#scrubber").fill("42")
    expect(page.locator("#lab")).to_have_attribute("data-t", "42", timeout=SIM_TIMEOUT)

    # The socket drops: the page shows it, reconnects and restores the same moment.
    sockets[-1].close()
    expect(page.locator("#lab-connection")).not_to_have_attribute(
        "data-state", "open", timeout=5_000)
    connect(page)
    expect(page.locator("#lab")).to_have_attribute("data-t", "42", timeout=SIM_TIMEOUT)
    assert len(sockets) >= 2
    assert_local(local_only, server)


def test_lab_on_a_phone(browser, server, artifacts):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server}/zh-hans/lab/?example={EXAMPLE}")
    connect(page)
    apply(page)
    step_until_explained(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 392, f"the lab scrolls sideways on a phone ({width}px)"
    page.screenshot(path=str(artifacts / "lab-phone-zh-hans.png"), full_page=True)
    context.close()


def test_init_containers_wait_for_services_created_from_the_page(page, server, local_only,
                                                                  artifacts):
    """The lesson's myapp-pod stays at Init:0/2 until the learner creates both Services with
    the page's "kubectl create service clusterip" action; then it initialises and runs."""
    page.goto(f"{server}/en/lab/?example=init-and-sidecar-containers-wait-for-services")
    expect(page.locator(".cm-editor .cm-content")).to_contain_text("name: myapp-pod")
    connect(page)
    expect(page.locator("#validation-summary")).to_have_attribute(
        "data-ok", "true", timeout=SIM_TIMEOUT)
    apply(page)
    # the cluster actions are offered by the server, so nothing is greyed out
    expect(page.locator("#act-service")).to_be_enabled()
    expect(page.locator("#act-image")).to_be_enabled()
    expect(page.locator("#act-node")).to_be_enabled()
    expect(page.locator("#actions-unsupported")).to_be_hidden()

    page.locator("#scrubber").fill("40")
    expect(page.locator("#lab")).to_have_attribute("data-t", "40", timeout=SIM_TIMEOUT)
    assert re.search(r"myapp-pod\s+0/1\s+Init:0/2\s", kubectl(page, "wide"))
    page.locator("#btn-step").click()
    page.locator("#btn-step").click()
    assert re.search(r"myapp-pod\s+0/1\s+Init:0/2\s", kubectl(page, "wide"))

    # What the page sends is what the protocol documents.
    page.evaluate("""() => {
      window.podlabSent = [];
      const original = WebSocket.prototype.send;
      WebSocket.prototype.send = function (data) {
        window.podlabSent.push(JSON.parse(data));
        return original.call(this, data);
      };
    }""")
    for name in ("myservice", "mydb"):
        page.locator("#service-name").fill(name)
        page.locator("#btn-service").click()
        expect(page.locator("#lab-error")).to_be_hidden()
    page.wait_for_function(
        "() => window.podlabSent.filter((m) => m.type === 'lab.action').length === 2")
    actions = page.evaluate("() => window.podlabSent.filter((m) => m.type === 'lab.action')")
    assert actions == [
        {"type": "lab.action", "action": "service", "name": "myservice"},
        {"type": "lab.action", "action": "service", "name": "mydb"},
    ]
    expect(page.locator("#lab")).to_have_attribute("data-t", re.compile(r"^4\d"))

    wide = page.locator(".kubectl-tabs [data-view='wide']")
    wide.click()
    run_until(page, page.locator("#kubectl-text"),
              text=re.compile(r"myapp-pod\s+1/1\s+Running\s"))
    page.screenshot(path=str(artifacts / "lab-init-services-en.png"), full_page=True)
    assert_local(local_only, server)


QUIET = """apiVersion: v1
kind: Pod
metadata:
  name: quiet
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "sleep 900"]
"""


def _age_seconds(age: str) -> int:
    """kubectl's short ages: 45s, 2m5s, 3m."""
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", age)
    assert match and age, age
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


def test_quiet_lab_clock_runs_and_the_shown_view_is_current(page, server, local_only):
    """Nothing happens after the container starts until its sleep ends at t = 900, so the
    server sends few frames (the clock keeps going: something is still to come): the page's
    clock still runs, and switching to describe brings its ages up to the current moment."""
    page.goto(server + "/en/lab/" + lab_link(QUIET))
    connect(page)
    start_shared(page)
    expect(page.locator("#lab")).to_have_attribute("data-active", "true", timeout=SIM_TIMEOUT)
    assert "Started" not in kubectl(page, "events")
    page.locator(".kubectl-tabs [data-view='watch']").click()
    page.locator("#speed").select_option("30")
    page.locator("#btn-play").click()
    expect(page.locator("#lab")).to_have_attribute("data-playing", "true")
    clock = page.locator("#clock")
    first = clock.text_content()
    page.wait_for_timeout(700)
    assert clock.text_content() != first  # the clock moves between frames
    page.wait_for_timeout(3_000)
    kubectl(page, "describe")
    # Some 110 simulated seconds after the start: the server answers the switch with ages
    # of now, not of the last frame that had news in it (the container starting, at t of a
    # few seconds), and no frame with news comes meanwhile.
    describe = ""
    for _ in range(50):
        describe = page.locator("#kubectl-text").text_content() or ""
        started = re.search(r"Started\s+(\S+)\s+kubelet", describe)
        if started and _age_seconds(started.group(1)) >= 60:
            break
        page.wait_for_timeout(100)
    else:
        pytest.fail(f"describe kept the ages of an old frame at {clock.text_content()} "
                    f"{page.locator('#next-event').text_content()}:\n{describe}")
    page.locator("#btn-pause").click()




def test_a_namespace_is_deleted_from_the_page(page, server, local_only, artifacts):
    """kubectl delete namespace: refused for default with kubectl's line; for shop, its Pod
    stops (nginx's STOPSIGNAL, SIGQUIT, on the timeline) and goes."""
    page.goto(f"{server}/en/lab/{lab_link(NAMESPACED, t=10)}")
    connect(page)
    start_shared(page)
    expect(page.locator("#lab")).to_have_attribute("data-active", "true", timeout=SIM_TIMEOUT)
    if page.locator("#lab").get_attribute("data-playing") == "true":
        page.locator("#btn-pause").click()
    expect(page.locator("#act-namespace")).to_be_enabled()
    page.locator("#namespace-name").fill("default")
    page.locator("#btn-namespace-delete").click()
    expect(page.locator("#lab-error")).to_contain_text(
        'namespaces "default" is forbidden: this namespace may not be deleted',
        timeout=SIM_TIMEOUT)
    page.locator("#namespace-name").fill("shop")
    page.locator("#btn-namespace-delete").click()
    lane = page.locator(".tl-lane[data-lane='web/web']")
    expect(lane.locator("text.tl-mark", has_text="SIGQUIT").first).to_be_attached(
        timeout=SIM_TIMEOUT)
    run_until(page, page.locator("#explanations"), text=re.compile(r"SIGQUIT"))
    page.screenshot(path=str(artifacts / "lab-namespace-delete-en.png"), full_page=True)
    assert_local(local_only, server)


def test_a_share_link_that_inflates_past_the_message_limit_is_refused(page, server, local_only):
    """A few hundred kilobytes of deflate that inflate to 200 MB (a link can hold gigabytes
    of it): decoding stops at the message limit and the page says the link could not be read,
    in its language, instead of taking the tab's memory. A seed the server does not take is 0."""
    packer = zlib.compressobj(wbits=-15)
    packed = packer.compress(b" " * (200 * 1024 * 1024)) + packer.flush()
    bomb = "#lab=z" + base64.urlsafe_b64encode(packed).decode().rstrip("=")
    page.goto(f"{server}/en/lab/")
    connect(page)
    decoded = page.evaluate("""async ([bomb, seeded]) => {
        const main = document.querySelector('script[type="module"][src*="lab/main.js"]');
        const share = await import(main.src.replace("main.js", "share.js"));
        const lab = await share.decodeLab(seeded);
        try {
            await share.decodeLab(bomb);
            return ["decoded", lab.seed];
        } catch (err) {
            return [err.message, lab.seed];
        }
    }""", [bomb, lab_link(QUIET, seed=10**20)])
    assert decoded == ["lab link too large", 0]
    for lang, words in (("en", "This link could not be read"), ("zh-hans", "无法读取这个链接")):
        page.goto(f"{server}/{lang}/lab/{bomb}")
        connect(page)
        expect(page.locator("#lab-error")).to_contain_text(words)
        expect(page.locator("#share-confirm")).to_be_hidden()
