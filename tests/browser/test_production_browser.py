"""The README's production path in real Chromium: DEBUG off, collected static files (which
compiles the translations), two Daphne processes on one database (and one Redis when
REDIS_URL is set), both languages, a quiz answered on one process and seen on the other, a
lab run, a quiz.js error shown in the page's language, and the health checks.

``.ci/run`` starts the two processes exactly as the README says and passes their addresses in
PODLAB_PRODUCTION_URLS; without it (``./dev test``) the test starts them itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from podlab.quizzes.bank import banks

from .conftest import start_daphne

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "probes-exec-liveness"


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> Iterator[list[str]]:
    given = os.environ.get("PODLAB_PRODUCTION_URLS")
    if given:
        yield [u.strip().rstrip("/") for u in given.split(",")]
        return
    tmp = tmp_path_factory.mktemp("production")
    env = {
        "DJANGO_SETTINGS_MODULE": "podlab.settings",
        "SECRET_KEY": "production-path-test-secret-0123456789-abcdefghijklmnop",
        "DEBUG": "0",
        "SECURE_COOKIES": "0",
        "STATIC_ROOT": str(tmp / "static"),
        "PODLAB_STATIC_FINDERS": "0",
        "TRUST_PROXY_HEADERS": "1",
    }
    if not os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'shared.sqlite3'}"
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
                   cwd=ROOT, env={**os.environ, **env}, check=True)
    procs = [start_daphne(tmp, extra_env=env) for _ in range(2)]
    try:
        yield [base for _, base in procs]
    finally:
        for proc, _ in procs:
            proc.terminate()
            proc.wait(timeout=10)


def single_question():
    return next(q for bank in banks().values() for q in bank.questions if q.type == "single")


def test_two_processes_both_languages_quiz_lab_and_health(production, page: Page, artifacts):
    first, second = production
    for base in production:
        with urllib.request.urlopen(base + "/readyz", timeout=10) as response:  # noqa: S310
            assert json.loads(response.read())["status"] == "ready"
    # Both languages, from collected, fingerprinted static files.
    page.goto(first + "/zh-hans/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("nav.site-nav")).to_contain_text("课程")
    assert re.search(r'/static/css/site\.[0-9a-f]{12}\.css', page.content())
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts / "production-home-zh-hans-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(second + "/en/")
    expect(page.locator("nav.site-nav")).to_contain_text("Course")
    page.screenshot(path=str(artifacts / "production-home-en.png"))

    # A quiz answered on the first process is in the review queue on the second.
    q = single_question()
    right = next(c for c in q.choices if c.correct)
    wrong = next(c for c in q.choices if not c.correct)
    page.goto(f"{first}/zh-hans/quizzes/{q.lesson_slug}/")
    form = page.locator(f"form#q-{q.id}")
    form.locator(f"input[name=choice][value='{q.token(wrong.id)}']").check()
    form.locator("button[type=submit]").click()
    expect(form.locator(".quiz-verdict")).to_have_attribute("data-correct", "false")
    page.screenshot(path=str(artifacts / "production-quiz-zh-hans.png"), full_page=True)
    # Cookies do not depend on the port: the same learner on the other process.
    page.goto(f"{second}/zh-hans/quizzes/progress/")
    expect(page.locator(f"[data-question='{q.key}']").first).to_be_attached()

    # A refused answer (here: the CSRF token is gone) is explained in the page's language,
    # not blamed on the connection.
    page.goto(f"{second}/zh-hans/quizzes/{q.lesson_slug}/")
    form = page.locator(f"form#q-{q.id}")
    form.locator("input[name=csrfmiddlewaretoken]").evaluate("e => e.remove()")
    page.context.clear_cookies()
    form.locator(f"input[name=choice][value='{q.token(right.id)}']").check()
    form.locator("button[type=submit]").click()
    expect(form.locator(".quiz-result .error")).to_contain_text("刷新页面")
    page.screenshot(path=str(artifacts / "production-quiz-refused-zh-hans.png"), full_page=True)

    # The lab over the second process's websocket.
    page.goto(f"{second}/en/lab/?example={EXAMPLE}")
    expect(page.locator("#lab-connection")).to_have_attribute("data-state", "open",
                                                              timeout=10_000)
    expect(page.locator("#validation-summary")).to_have_attribute("data-ok", "true",
                                                                  timeout=10_000)
    page.locator("#btn-apply").click()
    expect(page.locator("#lab")).to_have_attribute("data-active", "true", timeout=10_000)
    page.screenshot(path=str(artifacts / "production-lab-en.png"))
