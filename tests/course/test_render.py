"""Markdown rendering: directives, glossary hover terms, diagrams."""

import pytest

from podlab.course import diagrams
from podlab.course.content import GlossaryTerm, course
from podlab.course.render import mark_glossary, render_lesson

TERMS = [
    GlossaryTerm(id="pod", term={"en": "Pod", "zh-hans": "Pod"},
                 definition={"en": "The smallest unit.", "zh-hans": "最小单元。"}),
    GlossaryTerm(id="liveness-probe", term={"en": "liveness probe", "zh-hans": "存活探针"},
                 definition={"en": "Restarts a stuck container.", "zh-hans": "重启卡住的容器。"}),
]


def test_glossary_marks_first_occurrence_only():
    html = "<p>A Pod has a liveness probe. Another Pod.</p>"
    out = mark_glossary(html, TERMS, "en")
    assert out.count('class="term"') == 2
    assert 'data-term="liveness-probe"' in out
    assert out.count("<dfn>Pod</dfn>") == 1
    assert 'role="tooltip">Restarts a stuck container.</span>' in out


def test_glossary_skips_code_links_and_headings():
    html = "<h2>Pod</h2><p><code>Pod</code> <a href='#'>Pod</a></p><pre>Pod</pre><p>x Pod</p>"
    out = mark_glossary(html, TERMS, "en")
    assert out.count('class="term"') == 1
    assert out.endswith(
        '<p>x <span class="term" tabindex="0" data-term="pod"><dfn>Pod</dfn>'
        '<span class="term-def" role="tooltip">The smallest unit.</span></span></p>'
    )


def test_glossary_chinese_terms():
    out = mark_glossary("<p>配置存活探针。</p>", TERMS, "zh-hans")
    assert "<dfn>存活探针</dfn>" in out and "重启卡住的容器。" in out


@pytest.mark.parametrize("name", sorted(diagrams.DIAGRAMS))
def test_every_diagram_renders_in_both_languages(name):
    en = diagrams.render(name, lang="en")
    zh = diagrams.render(name, lang="zh-hans")
    for svg in (en, zh):
        assert svg.startswith('<figure class="diagram"')
        assert "<svg" in svg and "</svg>" in svg and "<title" in svg
        assert "style=" not in svg  # the CSP forbids inline styles
    assert en != zh, f"{name}: labels are not translated"


def test_unknown_diagram_is_an_error():
    with pytest.raises(ValueError):
        diagrams.render("nope", lang="en")


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_rendered_lessons_have_examples_and_toc(lang):
    for lesson in course().lessons:
        rendered = render_lesson(lesson.slug, lang)
        assert rendered.toc, lesson.slug
        for kind, arg in rendered.directives:
            if kind == "example":
                assert f'data-example="{arg}"' in rendered.html
            elif kind == "kubectl":
                assert f'data-transcript="{arg}"' in rendered.html
            elif kind == "handwritten":
                assert 'class="handwritten-note"' in rendered.html
            else:
                assert f'data-diagram="{arg}"' in rendered.html
        assert "PODLABDIRECTIVE" not in rendered.html


def test_line_breaks_inside_chinese_prose_are_joined_but_code_is_kept():
    from podlab.course.render import join_cjk_lines

    html = ("<p>应用可能要花一分钟加载缓存，之后才能\n响应。Web\n服务器</p>"
            "<pre><code>才能\n响应</code></pre>")
    out = join_cjk_lines(html)
    assert "之后才能响应。Web\n服务器" in out
    assert "<pre><code>才能\n响应</code></pre>" in out
