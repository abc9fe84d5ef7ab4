"""A question round in real Chromium: an instructor's console and two students, one reading
English and one Chinese, against a real Daphne."""

from __future__ import annotations

import re
import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import start_daphne
from tests.classroom.live import make_instructor, server_env

CJK = re.compile(r"[\u4e00-\u9fff]")
CRASHER = """apiVersion: v1
kind: Pod
metadata:
  name: crasher
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo bye; exit 1"]
"""


@pytest.fixture(scope="module")
def classroom_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("classroom")
    proc, base = start_daphne(tmp)
    make_instructor(server_env(tmp, ""), "teach", "browser-pass-1")
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _watch_errors(page, errors):
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))


def _settled_t(page) -> str | None:
    """The page's simulated time once the answers to the steps sent have all arrived."""
    t = page.locator("#classroom").get_attribute("data-t")
    for _ in range(50):
        page.wait_for_timeout(200)
        again = page.locator("#classroom").get_attribute("data-t")
        if again == t:
            return t
        t = again
    return t


def test_question_round_with_students_in_two_languages(browser, classroom_server, artifacts):
    base = classroom_server
    errors: list[str] = []
    teacher = browser.new_context().new_page()
    _watch_errors(teacher, errors)
    teacher.goto(base + "/en/accounts/login/")
    teacher.fill("input[name=username]", "teach")
    teacher.fill("input[name=password]", "browser-pass-1")
    teacher.locator("form button[type=submit], form input[type=submit]").last.click()
    teacher.goto(base + "/en/classroom/")
    teacher.click("#open-room")
    teacher.click(".room-join-details summary")
    expect(teacher.locator(".room-qr svg")).to_be_visible()
    code = teacher.locator("#room-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{6}", code)
    expect(teacher.locator("#classroom")).to_have_attribute("data-connection", "open")

    pages = {}
    for lang, name in (("en", "Ann"), ("zh-hans", "Bo")):
        page = browser.new_context().new_page()
        _watch_errors(page, errors)
        page.goto(f"{base}/{lang}/join/?code={code}")
        page.fill("#join-name", name)
        page.click("#join-submit")
        expect(page).to_have_url(re.compile(rf"/{lang}/join/{code}/$"))
        expect(page.locator("#me-state")).to_have_attribute("data-state", "online")
        expect(page.locator("#teacher-state")).to_have_attribute("data-state", "online")
        pages[lang] = page

    # The console's editor is CodeMirror; its textarea (hidden) takes text from scripts too.
    expect(teacher.locator("#editor-mount .cm-editor")).to_be_visible()
    set_manifest = (
        "text => { const t = document.getElementById('manifest'); t.value = text;"
        " t.dispatchEvent(new Event('input')); }"
    )
    # Validated as the instructor types: the problem is marked on its line.
    teacher.evaluate(set_manifest, CRASHER.replace("image:", "imagee:"))
    expect(teacher.locator("#validation")).to_contain_text("imagee")
    expect(teacher.locator("#editor-mount .cm-lintRange-error, #editor-mount .cm-lint-marker-error")
           .first).to_be_attached()
    teacher.evaluate(set_manifest, CRASHER)
    expect(teacher.locator("#editor-mount .cm-content")).to_contain_text("name: crasher")
    teacher.click("#btn-apply")
    for _ in range(4):
        teacher.click("#btn-step")
    expect(teacher.locator("#kubectl-text")).to_contain_text("crasher")
    t = _settled_t(teacher)
    for page in pages.values():
        expect(page.locator("#classroom")).to_have_attribute("data-t", t)
        expect(page.locator("#kubectl-text")).to_contain_text("crasher")
    expect(pages["zh-hans"].locator("#explanations")).to_contain_text(CJK)

    teacher.select_option("#bank-select", "probes/which-probe")
    teacher.click("#btn-push")
    expect(teacher.locator("#histogram li")).to_have_count(3)
    right = teacher.locator("#histogram li.is-correct").get_attribute("data-token")
    wrong = teacher.locator("#histogram li:not(.is-correct)").first.get_attribute("data-token")
    expect(pages["en"].locator("#question-prompt")).to_contain_text("Which probe")
    expect(pages["zh-hans"].locator("#question-prompt")).to_contain_text("探针")
    pages["en"].check(f"input[data-token='{right}']")
    pages["en"].click("#btn-answer")
    pages["zh-hans"].check(f"input[data-token='{wrong}']")
    pages["zh-hans"].click("#btn-answer")
    expect(teacher.locator("#answered-count")).to_have_attribute("data-answered", "2")
    expect(teacher.locator(f"#histogram li[data-token='{right}'] .count")).to_have_text("1")
    teacher.click("#btn-reveal")
    for page in pages.values():
        expect(page.locator(".choice.is-correct")).to_have_count(1)
        expect(page.locator(f".choice.is-correct input[data-token='{right}']")).to_have_count(1)
        expect(page.locator("#question-explanation")).to_be_visible()
    expect(pages["en"].locator("#answer-status")).to_contain_text("Right!")
    expect(pages["en"].locator("#score")).to_contain_text("1")
    expect(pages["zh-hans"].locator("#question-explanation")).to_contain_text(CJK)
    teacher.screenshot(path=str(artifacts / "classroom-console.png"), full_page=True)
    pages["zh-hans"].screenshot(path=str(artifacts / "classroom-student-zh.png"), full_page=True)

    # A student reload keeps the seat, the answer and the score.
    pages["en"].reload()
    expect(pages["en"].locator("#seat-name")).to_have_text("Ann")
    expect(pages["en"].locator(f"input[data-token='{right}']")).to_be_checked()
    expect(pages["en"].locator("#score")).to_contain_text("1")

    # The instructor leaves: the students see it.
    teacher.close()
    expect(pages["zh-hans"].locator("#teacher-state")).to_have_attribute("data-state", "offline")
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 800}
SLEEPER = """apiVersion: v1
kind: Pod
metadata:
  name: sleeper
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo hello; sleep 3600"]
"""


def _teacher(browser, base, errors, lang="en"):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    _watch_errors(page, errors)
    page.goto(base + f"/{lang}/accounts/login/")
    page.fill("input[name=username]", "teach")
    page.fill("input[name=password]", "browser-pass-1")
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    page.goto(base + f"/{lang}/classroom/")
    return context, page


def _bar_width(page, token):
    return page.locator(f"#histogram li[data-token='{token}'] .bar").bounding_box()["width"]


def test_projector_countdown_and_clock_lock(browser, classroom_server, artifacts):
    base = classroom_server
    errors: list[str] = []
    context, teacher = _teacher(browser, base, errors)
    teacher.click("#open-room")
    code = teacher.locator("#room-code").inner_text()
    screens = {}
    for lang in ("en", "zh-hans"):
        screen = context.new_page()
        _watch_errors(screen, errors)
        screen.goto(f"{base}/{lang}/classroom/{code}/projector/")
        expect(screen.locator("#classroom")).to_have_attribute("data-connection", "open")
        expect(screen.locator("#classroom")).to_have_attribute("data-phase", "lobby")
        expect(screen.locator("#lobby .room-qr svg")).to_be_visible()
        screens[lang] = screen

    students = {}
    for lang, name in (("en", "Ann"), ("zh-hans", "Bo")):
        page = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
        _watch_errors(page, errors)
        page.goto(f"{base}/{lang}/join/?code={code}")
        page.fill("#join-name", name)
        page.click("#join-submit")
        expect(page.locator("#me-state")).to_have_attribute("data-state", "online")
        students[lang] = page
    expect(screens["en"].locator("#joined-count")).to_have_attribute("data-online", "2")
    expect(screens["zh-hans"].locator("#lobby-count")).to_contain_text(CJK)
    screens["en"].screenshot(path=str(artifacts / "classroom-projector-lobby-en.png"))
    screens["zh-hans"].screenshot(path=str(artifacts / "classroom-projector-lobby-zh.png"))

    teacher.evaluate("text => { const t = document.getElementById('manifest'); t.value = text;"
                     " t.dispatchEvent(new Event('input')); }", SLEEPER)
    teacher.click("#btn-apply")
    for screen in screens.values():
        expect(screen.locator("#classroom")).to_have_attribute("data-phase", "live")
        expect(screen.locator("#lobby")).to_be_hidden()
        expect(screen.locator("#kubectl-text")).to_be_visible()

    # A question with a 10 s countdown: it closes by itself, on every view.
    teacher.select_option("#bank-select", "probes/which-probe")
    teacher.select_option("#countdown-select", "10")
    teacher.click("#btn-push")
    expect(teacher.locator("#histogram li")).to_have_count(3)
    right = teacher.locator("#histogram li.is-correct").get_attribute("data-token")
    wrong = teacher.locator("#histogram li:not(.is-correct)").first.get_attribute("data-token")
    for screen in screens.values():
        expect(screen.locator("#histogram li")).to_have_count(3)
        expect(screen.locator("#countdown")).to_be_visible()
    students["en"].check(f"input[data-token='{right}']")
    students["en"].click("#btn-answer")
    students["zh-hans"].check(f"input[data-token='{wrong}']")
    students["zh-hans"].click("#btn-answer")
    for page in (teacher, screens["en"]):
        expect(page.locator("#answered-count")).to_have_attribute("data-answered", "2")
    # Equal counts draw equal bars, with or without the "correct" badge beside them.
    assert abs(_bar_width(teacher, right) - _bar_width(teacher, wrong)) < 1
    assert _bar_width(screens["en"], right) > 10
    assert abs(_bar_width(screens["en"], right) - _bar_width(screens["en"], wrong)) < 1
    # Before Reveal the big screen has no right answer and no names.
    for screen in screens.values():
        expect(screen.locator("#histogram li.is-correct")).to_have_count(0)
        expect(screen.locator("body")).not_to_contain_text("Ann")
        expect(screen.locator("body")).not_to_contain_text("Bo ")
    screens["en"].screenshot(path=str(artifacts / "classroom-projector-question-en.png"))
    students["zh-hans"].screenshot(path=str(artifacts / "classroom-student-phone-zh.png"),
                                   full_page=True)
    for page in students.values():
        expect(page.locator("#classroom")).to_have_attribute(
            "data-question", re.compile(r":locked$"), timeout=20000)
        expect(page.locator("input[name=choice]").first).to_be_disabled()
        expect(page.locator("#btn-answer")).to_be_hidden()
    students["en"].screenshot(path=str(artifacts / "classroom-student-phone-en.png"),
                              full_page=True)
    teacher.click("#btn-reveal")
    for screen in screens.values():
        expect(screen.locator("#histogram li.is-correct")).to_have_count(1)
        expect(screen.locator("#question-explanation")).to_be_visible()
    expect(screens["zh-hans"].locator("#question-explanation")).to_contain_text(CJK)
    screens["zh-hans"].screenshot(path=str(artifacts / "classroom-projector-reveal-zh.png"))
    teacher.screenshot(path=str(artifacts / "classroom-console-desktop-en.png"), full_page=True)

    # A predict question locks the clock at its target time until it is revealed.
    teacher.select_option("#predict-seconds", "10")
    teacher.select_option("#countdown-select", "0")
    teacher.click("#btn-predict")
    expect(teacher.locator("#question-prompt")).to_contain_text("STATUS")
    target = teacher.locator("#question-prompt").inner_text().split("t = ")[1].split(" ")[0]
    teacher.select_option("#speed", "instant")
    teacher.click("#btn-play")
    expect(teacher.locator("#classroom")).to_have_attribute("data-playing", "false")
    expect(teacher.locator("#clock")).to_have_text(f"t = {target} s")
    teacher.click("#btn-play")
    expect(teacher.locator("#room-status")).to_contain_text("locked")
    expect(students["en"].locator("#clock")).to_have_text(f"t = {target} s")
    teacher.click("#btn-reveal")
    teacher.click("#btn-step")
    expect(teacher.locator("#clock")).not_to_have_text(f"t = {target} s")

    # A short-answer question: typed on the phone, right and wrong bars after Reveal.
    teacher.select_option("#bank-select", "probes/liveness-success-threshold")
    teacher.click("#btn-push")
    for page, text in ((students["en"], "1"), (students["zh-hans"], "3")):
        page.fill("#short-answer", text)
        page.click("#btn-answer")
    expect(teacher.locator("#answered-count")).to_have_attribute("data-answered", "2")
    expect(teacher.locator("#answered-names")).to_contain_text("3 (1)")
    teacher.click("#btn-reveal")
    expect(students["en"].locator("#answer-status")).to_contain_text("Right!")
    expect(students["zh-hans"].locator(".accepted")).to_contain_text("1")
    expect(screens["en"].locator("#histogram li")).to_have_count(2)
    expect(screens["en"].locator("#histogram li[data-token='right'] .count")).to_have_text("1")
    students["zh-hans"].screenshot(path=str(artifacts / "classroom-student-short-zh.png"),
                                   full_page=True)
    # An ordering question: items move with the Up and Down buttons.
    teacher.select_option("#bank-select", "restart-policy-and-backoff/backoff-order")
    teacher.click("#btn-push")
    order = students["en"].locator("#order-list li")
    expect(order).to_have_count(4)
    second = order.nth(1).get_attribute("data-token")
    order.nth(1).locator(".order-up").click()
    expect(order.first).to_have_attribute("data-token", second)
    students["en"].click("#btn-answer")
    expect(teacher.locator("#answered-count")).to_have_attribute("data-answered", "1")
    students["en"].screenshot(path=str(artifacts / "classroom-student-order-en.png"),
                              full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors


def test_a_lesson_plan_drives_the_room(browser, classroom_server, artifacts):
    """An instructor prepares a plan (scenario, question, predict), then runs it in a room:
    students and the big screen follow each step, in both languages."""
    base = classroom_server
    errors: list[str] = []
    context, teacher = _teacher(browser, base, errors)
    teacher.click("#plans-link")
    teacher.fill("#plan-title", "Probes, week 4")
    teacher.click("#plan-create")
    expect(teacher.locator("h1")).to_have_text("Probes, week 4")
    expect(teacher.locator("#plan-empty")).to_be_visible()
    teacher.select_option("#add-scenario select[name=example]", "what-is-a-pod-hello")
    teacher.click("#add-scenario button[type=submit]")
    teacher.select_option("#add-question-select", "probes/which-probe")
    teacher.select_option("#add-question select[name=countdown]", "60")
    teacher.click("#add-question button[type=submit]")
    teacher.select_option("#add-predict select[name=seconds]", "10")
    teacher.click("#add-predict button[type=submit]")
    steps = teacher.locator("#plan-steps li")
    expect(steps).to_have_count(3)
    expect(steps.nth(1)).to_contain_text("Which probe")
    expect(steps.nth(1)).to_contain_text("60 s to vote")
    # Reordered with the arrows: the predict question moves up and back down.
    steps.nth(2).locator("button[value=up]").click()
    expect(teacher.locator("#plan-steps li").nth(1)).to_have_attribute("data-kind", "predict")
    teacher.locator("#plan-steps li").nth(1).locator("button[value=down]").click()
    expect(teacher.locator("#plan-steps li").nth(2)).to_have_attribute("data-kind", "predict")
    teacher.screenshot(path=str(artifacts / "classroom-plan-desktop-en.png"), full_page=True)
    plan_url = teacher.url
    phone = browser.new_context(viewport=PHONE, is_mobile=True,
                                storage_state=context.storage_state()).new_page()
    _watch_errors(phone, errors)
    phone.goto(plan_url.replace("/en/", "/zh-hans/"))
    expect(phone.locator("#plan-steps li").nth(1)).to_contain_text(CJK)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.screenshot(path=str(artifacts / "classroom-plan-phone-zh.png"), full_page=True)

    teacher.goto(base + "/en/classroom/")
    teacher.click("#open-room")
    code = teacher.locator("#room-code").inner_text()
    screens = {}
    for lang in ("en", "zh-hans"):
        screen = context.new_page()
        _watch_errors(screen, errors)
        screen.goto(f"{base}/{lang}/classroom/{code}/projector/")
        expect(screen.locator("#classroom")).to_have_attribute("data-connection", "open")
        screens[lang] = screen
    students = {}
    for lang, name in (("en", "Ann"), ("zh-hans", "Bo")):
        page = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
        _watch_errors(page, errors)
        page.goto(f"{base}/{lang}/join/?code={code}")
        page.fill("#join-name", name)
        page.click("#join-submit")
        expect(page.locator("#me-state")).to_have_attribute("data-state", "online")
        students[lang] = page

    expect(teacher.locator("#plan-body")).to_be_hidden()
    teacher.select_option("#plan-select", label="Probes, week 4")
    expect(teacher.locator("#plan-body")).to_be_visible()
    expect(teacher.locator("#plan-next")).to_contain_text("what-is-a-pod-hello")
    for screen in screens.values():
        expect(screen.locator("#plan-progress")).to_be_visible()
    expect(screens["zh-hans"].locator("#plan-progress")).to_contain_text("第 0 步，共 3 步")

    # Step 1: the scenario, in every view.
    teacher.click("#btn-next")
    expect(teacher.locator("#classroom")).to_have_attribute("data-plan-position", "1")
    # The console's editor shows what the room now runs.
    expect(teacher.locator("#editor-mount .cm-content")).to_contain_text("name: hello-pod")
    for _ in range(3):
        teacher.click("#btn-step")
    for page in (teacher, *students.values(), *screens.values()):
        expect(page.locator("#kubectl-text")).to_contain_text("hello-pod")
    expect(teacher.locator("#plan-next")).to_contain_text("Which probe")
    # Step 2: the question with the plan's voting time; the big screen shows no answer.
    teacher.click("#btn-next")
    expect(students["zh-hans"].locator("#question-prompt")).to_contain_text("探针")
    expect(students["en"].locator("#question-prompt")).to_contain_text("Which probe")
    expect(students["en"].locator("#countdown")).to_be_visible()
    for screen in screens.values():
        expect(screen.locator("#histogram li")).to_have_count(3)
        expect(screen.locator("#histogram li.is-correct")).to_have_count(0)
        expect(screen.locator("#plan-progress")).to_have_attribute("data-position", "2")
    expect(screens["en"].locator("#plan-progress")).to_contain_text("Step 2 of 3")
    teacher.locator("#plan-details summary").click()
    expect(teacher.locator("#plan-steps li[data-state=done]")).to_have_count(2)
    expect(teacher.locator("#plan-steps li[data-state=next]")).to_have_count(1)
    teacher.screenshot(path=str(artifacts / "classroom-plan-console-en.png"), full_page=True)
    screens["en"].screenshot(path=str(artifacts / "classroom-plan-projector-en.png"))
    screens["zh-hans"].screenshot(path=str(artifacts / "classroom-plan-projector-zh.png"))
    students["zh-hans"].screenshot(path=str(artifacts / "classroom-plan-student-zh.png"),
                                   full_page=True)
    # Step 3: a predict question on the scenario's Pod; then the plan is done.
    teacher.click("#btn-next")
    expect(students["en"].locator("#question-prompt")).to_contain_text("STATUS")
    expect(teacher.locator("#plan-next")).to_have_text("Every step has been run.")
    expect(teacher.locator("#btn-next")).to_be_disabled()
    # Any step can be run again from the list.
    teacher.locator("#plan-steps li").nth(1).locator("button.plan-run").click()
    expect(students["en"].locator("#question-prompt")).to_contain_text("Which probe")
    expect(teacher.locator("#classroom")).to_have_attribute("data-plan-position", "2")
    students["en"].screenshot(path=str(artifacts / "classroom-plan-student-en.png"),
                              full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors
