"""Course pages in both languages, the language switch and the security headers."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from podlab.course.content import course
from podlab.course.render import render_lesson

pytestmark = pytest.mark.django_db


def url(name, lang, **kwargs):
    with translation.override(lang):
        return reverse(name, kwargs=kwargs or None)


@pytest.mark.parametrize("lang,marker", [("en", "Kubernetes Pods, step by step"),
                                         ("zh-hans", "一步一步学 Kubernetes Pod")])
def test_course_index_in_both_languages(client, lang, marker):
    response = client.get(url("course:index", lang))
    assert response.status_code == 200
    body = response.content.decode()
    assert marker in body
    html_lang = "zh-Hans" if lang == "zh-hans" else "en"
    assert f'<html lang="{html_lang}"' in body
    for lesson in course().lessons:
        assert lesson.title_in(lang) in body


def test_root_redirects_by_accept_language(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5")
    assert response.status_code == 302
    assert response["Location"] == "/zh-hans/"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.8")
    assert response["Location"] == "/en/"


def test_language_cookie_wins_over_accept_language(client):
    client.cookies["django_language"] = "zh-hans"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert response["Location"] == "/zh-hans/"


def test_language_switch_keeps_the_page_and_remembers(client):
    lesson = course().lessons[0]
    en_url = url("course:lesson", "en", slug=lesson.slug)
    zh_url = url("course:lesson", "zh-hans", slug=lesson.slug)
    page = client.get(en_url)
    assert 'name="language" value="zh-hans"' in page.content.decode()
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": en_url})
    assert response.status_code == 302
    assert response["Location"] == zh_url
    assert response.cookies["django_language"].value == "zh-hans"
    assert client.get("/").headers["Location"] == "/zh-hans/"


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_every_lesson_page_renders(client, lang):
    lessons = course().lessons
    for i, lesson in enumerate(lessons):
        response = client.get(url("course:lesson", lang, slug=lesson.slug))
        assert response.status_code == 200, lesson.slug
        body = response.content.decode()
        title = render_lesson(lesson.slug, lang).title
        assert f"<h1>{title}</h1>" in body
        assert f"<title>{title} · PodLab</title>" in body
        assert 'class="toc"' in body
        assert "Open in the lab" in body or "在实验室中打开" in body
        if i > 0:
            assert 'rel="prev"' in body
        if i < len(lessons) - 1:
            assert 'rel="next"' in body


def test_lesson_page_has_toc_anchors_and_lab_links(client):
    lesson = course().get("08-probes".split("-", 1)[1]) or course().lessons[0]
    body = client.get(url("course:lesson", "en", slug=lesson.slug)).content.decode()
    anchors = re.findall(r'<a href="#([A-Za-z0-9_-]+)">', body)
    assert anchors
    for anchor in anchors:
        assert f'id="{anchor}"' in body
    for example_id in lesson.examples:
        assert f"/en/lab/?example={example_id}" in body


def test_unknown_lesson_is_404(client):
    assert client.get("/en/lessons/no-such-lesson/").status_code == 404


def test_security_headers_and_csp(client):
    response = client.get(url("course:index", "en"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self' 'nonce-" in csp
    assert "object-src 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    body = response.content.decode()
    for tag in re.findall(r"<script[^>]*>", body):
        assert f'nonce="{nonce}"' in tag
    assert "http://" not in re.sub(r'href="http[^"]*"|xmlns="http[^"]*"', "", body)


def test_glossary_page_both_languages(client):
    en = client.get(url("course:glossary", "en")).content.decode()
    zh = client.get(url("course:glossary", "zh-hans")).content.decode()
    assert "liveness probe" in en.lower()
    assert "存活探针" in zh


def test_lesson_page_links_to_its_quiz(client):
    lesson = course().lessons[0]
    body = client.get(url("course:lesson", "zh-hans", slug=lesson.slug)).content.decode()
    assert f'href="/zh-hans/quizzes/{lesson.slug}/"' in body
    assert "开始测验" in body


def test_sources_name_seed_articles_by_title_not_file(client):
    for lang in ("en", "zh-hans"):
        body = client.get(url("course:lesson", lang, slug="restart-policy-and-backoff")).content
        text = body.decode()
        assert not re.search(r"\d{3}_[0-9a-f]{16}\.txt", text)
        assert "Pod 解析" in text


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_reading_path_start_continue_and_progress(client, lang):
    first, second = course().lessons[0], course().lessons[1]
    home = client.get(url("course:index", lang)).content.decode()
    assert 'class="button primary start-here"' in home
    assert f'href="{url("course:lesson", lang, slug=first.slug)}"' in home
    assert "continue" not in re.findall(r'class="button[^"]*"', home)[0]
    client.get(url("course:lesson", lang, slug=first.slug))
    client.get(url("course:lesson", lang, slug=second.slug))
    home = client.get(url("course:index", lang)).content.decode()
    match = re.search(r'<a class="button primary continue" href="([^"]+)">([^<]+)</a>', home)
    assert match and match.group(1) == url("course:lesson", lang, slug=second.slug)
    assert second.title_in(lang) in match.group(2)
    progress = client.get(url("quizzes:progress", lang)).content.decode()
    assert f'href="{url("quizzes:progress", lang)}"' in progress  # in the navigation
    read = re.findall(r'<li data-lesson="([^"]+)" class="is-read">', progress)
    assert read == [first.slug, second.slug]
    assert ("2 of" in progress) if lang == "en" else ("已读 2 /" in progress)


def test_lesson_page_starts_with_its_title_on_a_phone(client):
    body = client.get(url("course:lesson", "en", slug=course().lessons[0].slug)).content.decode()
    article = body[body.index("<article"):]
    # The inline table of contents (shown on narrow screens) comes after the title.
    assert article.index("<h1>") < article.index('class="toc-inline"')
