"""The course in real Chromium: both languages, language switch, diagrams, offline."""

import re

import pytest
from playwright.sync_api import expect


def assert_local(urls: list[str], base: str) -> None:
    foreign = [u for u in urls if not (u.startswith(base) or u.startswith("data:"))]
    assert not foreign, f"requests left the local server: {foreign}"


def test_course_both_languages_switch_and_diagram(page, server, local_only, artifacts):
    page.goto(server + "/en/")
    expect(page.locator("h1")).to_have_text("Kubernetes Pods, step by step")
    cards = page.locator(".lesson-card")
    assert cards.count() >= 15

    # Open a lesson that has a diagram.
    page.locator(".lesson-card a").filter(has_text=re.compile("phase", re.I)).first.click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    diagram = page.locator("figure.diagram svg").first
    expect(diagram).to_be_visible()
    box = diagram.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 80
    assert page.locator("figure.diagram svg rect").count() >= 3
    en_path = page.url.removeprefix(server)
    page.screenshot(path=str(artifacts / "lesson-en.png"), full_page=True)

    # Glossary term shows its definition on keyboard focus.
    term = page.locator(".lesson-body .term").first
    if term.count():
        term.focus()
        expect(term.locator(".term-def")).to_be_visible()

    # Switch language: same lesson, Chinese, remembered.
    page.locator("button.lang-button[data-lang='zh-hans']").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    assert page.url.removeprefix(server) == en_path.replace("/en/", "/zh-hans/", 1)
    expect(page.locator("figure.diagram svg").first).to_be_visible()
    expect(page.locator(".site-nav")).to_contain_text("课程")
    page.screenshot(path=str(artifacts / "lesson-zh-hans.png"), full_page=True)

    page.goto(server + "/")
    assert page.url == server + "/zh-hans/"
    expect(page.locator("h1")).to_have_text("一步一步学 Kubernetes Pod")

    # Back to English from the Chinese page.
    page.locator("button.lang-button[data-lang='en']").click()
    assert page.url == server + "/en/"
    assert_local(local_only, server)


def test_theme_toggle_and_keyboard(page, server, local_only):
    page.goto(server + "/en/")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.locator("#theme-toggle").click()
    theme = page.locator("html").get_attribute("data-theme")
    assert theme in {"light", "dark"}
    page.reload()
    assert page.locator("html").get_attribute("data-theme") == theme
    assert_local(local_only, server)


def test_phone_width_is_readable(browser, server, artifacts):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(server + "/")
    assert page.url.endswith("/zh-hans/")
    page.locator(".lesson-card a").first.click()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 392, f"page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=str(artifacts / "lesson-phone-zh-hans.png"))
    context.close()


WIDEST_JS = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 2
               && !e.closest('pre') && getComputedStyle(e).position !== 'fixed')
  .slice(-3).map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 60))
  .join(' | ')"""


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_every_lesson_on_a_phone_starts_with_its_title_and_fits(browser, server, artifacts, lang):
    """No lesson scrolls sideways at phone width (wide transcripts scroll inside their box), and
    the title comes before the folded table of contents."""
    from podlab.course.content import course

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    for lesson in course().lessons:
        page.goto(f"{server}/{lang}/lessons/{lesson.slug}/")
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(WIDEST_JS) if width > 392 else ""
        assert width <= 392, f"{lesson.slug} ({lang}) scrolls sideways ({width}px): {wide}"
        title_y = page.locator("article h1").bounding_box()["y"]
        toc = page.locator(".toc-inline")
        assert toc.is_visible() and toc.bounding_box()["y"] > title_y, lesson.slug
        assert not page.locator(".lesson-layout > .toc").is_visible()
        if lesson.slug == "restart-policy-and-backoff":
            assert page.locator("figure.transcript").count() >= 8
            page.screenshot(path=str(artifacts / f"lesson-07-phone-{lang}.png"))
            page.locator("figure.transcript").first.screenshot(
                path=str(artifacts / f"transcript-phone-{lang}.png"))
    context.close()


def test_lesson_with_transcripts_on_a_desktop(page, server, artifacts):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{server}/en/lessons/restart-policy-and-backoff/")
    assert page.locator(".lesson-layout > .toc").is_visible()
    assert not page.locator(".toc-inline").is_visible()
    transcript = page.locator("figure.transcript", has_text="kubectl get pods -w").first
    transcript.scroll_into_view_if_needed()
    assert "CrashLoopBackOff" in transcript.inner_text()
    page.screenshot(path=str(artifacts / "lesson-07-desktop-en.png"))
    page.goto(f"{server}/zh-hans/lessons/restart-policy-and-backoff/")
    page.locator("figure.transcript", has_text="kubectl get pods -w").first \
        .scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "lesson-07-desktop-zh-hans.png"))
