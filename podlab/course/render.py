"""Turn a lesson's Markdown into HTML: directives, highlighted code, anchors, glossary terms."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

import markdown
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import YamlLexer

from . import diagrams, transcripts
from .content import DIRECTIVE_RE, Example, GlossaryTerm, Lesson, course, glossary

MD_EXTENSIONS = ["extra", "toc", "attr_list", "admonition", "codehilite", "sane_lists"]
MD_CONFIG = {
    "codehilite": {"css_class": "highlight", "guess_lang": False},
    "toc": {"toc_depth": "2-3", "permalink": False},
}
SKIP_TAGS = {"code", "pre", "a", "h1", "h2", "h3", "h4", "h5", "h6", "svg", "figure", "dfn"}
TAG_RE = re.compile(r"(<[^>]+>)")
TAG_NAME_RE = re.compile(r"^<\s*(/?)\s*([a-zA-Z0-9]+)")


@dataclass(frozen=True)
class TocEntry:
    id: str
    title: str
    level: int


@dataclass(frozen=True)
class RenderedLesson:
    lesson: Lesson
    lang: str
    title: str
    html: str
    toc: list[TocEntry]
    directives: list[tuple[str, str]]


def example_html(example: Example, lang: str) -> str:
    code = highlight(example.text(), YamlLexer(), HtmlFormatter(cssclass="highlight"))
    with translation.override(lang):
        lab_url = reverse("lab:index") + f"?example={example.id}"
        open_label = _("Open in the lab")
        label = _("Example")
    return (
        f'<figure class="example" id="example-{example.id}" data-example="{example.id}">'
        f'<figcaption><span class="example-label">{label}</span> '
        f"<code>{html.escape(example.filename)}</code>"
        f'<span class="example-links">'
        f'<a class="button primary" href="{html.escape(lab_url)}">{open_label}</a></span>'
        f"</figcaption>{code}</figure>"
    )


def transcript_html(transcript: transcripts.Transcript, lang: str) -> str:
    """A console transcript computed by the engine, with the command a learner types."""
    output = transcripts.engine_output(transcript, course().examples)
    with translation.override(lang):
        lab_url = reverse("lab:index") + f"?example={transcript.example}"
        caption = _("Output of the lab for example %(example)s, %(moment)s after it was "
                    "applied.") % {
            "example": f'<a href="{html.escape(lab_url)}">'
                       f"<code>{html.escape(transcript.example)}.yaml</code></a>",
            "moment": html.escape(transcripts.moment(transcript.at)),
        }
    command = html.escape(transcripts.shown_command(transcript))
    return (
        f'<figure class="transcript" data-transcript="{html.escape(transcript.key)}">'
        f'<pre class="console"><code><span class="prompt">$ </span>{command}\n'
        f"{html.escape(output)}</code></pre>"
        f'<figcaption class="transcript-source">{caption}</figcaption></figure>'
    )


def handwritten_html(lang: str) -> str:
    with translation.override(lang):
        note = _("Written by hand: the lab does not simulate what this output shows.")
    return f'<p class="handwritten-note">{html.escape(note)}</p>'


def mark_glossary(body: str, terms: list[GlossaryTerm], lang: str) -> str:
    """Mark the first occurrence of each glossary term in the prose (not code, links, headings)."""
    entries = []
    for term in terms:
        word = term.term.get(lang)
        definition = term.definition.get(lang)
        if not word or not definition:
            continue
        if lang == "en":
            pattern = re.compile(r"(?<![\w-])(" + re.escape(word) + r")(?![\w-])", re.IGNORECASE)
        else:
            pattern = re.compile("(" + re.escape(word) + ")")
        entries.append((term, pattern, definition))
    # Longer terms first, so "readiness probe" wins over "probe".
    entries.sort(key=lambda e: -len(e[0].term.get(lang, "")))
    done: set[str] = set()
    parts = TAG_RE.split(body)
    stack: list[str] = []
    for i, part in enumerate(parts):
        if part.startswith("<"):
            m = TAG_NAME_RE.match(part)
            if m and not part.endswith("/>"):
                closing, name = m.group(1), m.group(2).lower()
                if name in SKIP_TAGS:
                    if closing:
                        if name in stack:
                            while stack and stack.pop() != name:
                                pass
                    else:
                        stack.append(name)
            continue
        if stack or not part.strip():
            continue
        text = part
        inserted: dict[str, str] = {}
        for term, pattern, definition in entries:
            if term.id in done:
                continue
            match = pattern.search(text)
            if not match:
                continue
            done.add(term.id)
            # A numbered stand-in token keeps later terms from matching inside the markup.
            token = f"\x00{len(done)}\x00"
            inserted[token] = (
                f'<span class="term" tabindex="0" data-term="{term.id}">'
                f"<dfn>{match.group(1)}</dfn>"
                f'<span class="term-def" role="tooltip">{html.escape(definition)}</span></span>'
            )
            text = text[: match.start()] + token + text[match.end() :]
        for token, markup in inserted.items():
            text = text.replace(token, markup)
        parts[i] = text
    return "".join(parts)


PRE_RE = re.compile(r"(<pre.*?</pre>)", re.DOTALL)
CJK = "\u2e80-\u9fff\u3000-\u303f\uff00-\uffef"
CJK_BREAK_RE = re.compile(rf"(?<=[{CJK}])\s*\n\s*(?=[{CJK}])")


def join_cjk_lines(body: str) -> str:
    """A line break inside Chinese prose is not a space: browsers would show one."""
    parts = PRE_RE.split(body)
    return "".join(part if part.startswith("<pre") else CJK_BREAK_RE.sub("", part)
                   for part in parts)


def _render(lesson: Lesson, lang: str) -> RenderedLesson:
    source = lesson.markdown(lang)
    directives: list[tuple[str, str]] = []
    replacements: dict[str, str] = {}
    out_lines = []
    in_fence = False
    for line in source.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else DIRECTIVE_RE.match(line.strip())
        transcript = None if in_fence else transcripts.parse_directive(line)
        handwritten = not in_fence and transcripts.HANDWRITTEN_RE.match(line.strip())
        if transcript is not None or handwritten:
            directives.append(("kubectl" if transcript else "handwritten",
                               transcript.key if transcript else ""))
            token = f"PODLABDIRECTIVE{len(directives)}X"
            replacements[token] = (transcript_html(transcript, lang) if transcript
                                   else handwritten_html(lang))
            out_lines.extend(["", token, ""])
        elif match:
            kind, arg = match["kind"], match["arg"]
            directives.append((kind, arg))
            token = f"PODLABDIRECTIVE{len(directives)}X"
            if kind == "example":
                example = course().examples.get(arg)
                if example is None:
                    raise ValueError(f"{lesson.slug}/{lang}.md: unknown example {arg!r}")
                replacements[token] = example_html(example, lang)
            else:
                replacements[token] = diagrams.render(arg, lang=lang)
            out_lines.extend(["", token, ""])
        else:
            out_lines.append(line)
    md = markdown.Markdown(extensions=MD_EXTENSIONS, extension_configs=MD_CONFIG)
    body = md.convert("\n".join(out_lines))
    title = lesson.title_in(lang)
    # The page template prints the title: drop the Markdown's own h1.
    h1 = re.match(r"\s*<h1[^>]*>(.*?)</h1>\s*", body, re.DOTALL)
    if h1:
        title = re.sub(r"<[^>]+>", "", h1.group(1)).strip() or title
        body = body[h1.end() :]
    if lang != "en":
        body = join_cjk_lines(body)
    body = mark_glossary(body, glossary(), lang)
    for token, fragment in replacements.items():
        body = body.replace(f"<p>{token}</p>", fragment).replace(token, fragment)
    toc: list[TocEntry] = []

    def walk(tokens: list[dict]) -> None:
        for tok in tokens:
            if tok["level"] in (2, 3):
                toc.append(TocEntry(id=tok["id"], title=html.unescape(tok["name"]),
                                    level=tok["level"]))
            walk(tok.get("children", []))

    walk(md.toc_tokens)  # type: ignore[attr-defined]
    return RenderedLesson(lesson=lesson, lang=lang, title=title, html=body, toc=toc,
                          directives=directives)


@lru_cache(maxsize=128)
def render_lesson(slug: str, lang: str) -> RenderedLesson:
    lesson = course().get(slug)
    if lesson is None:
        raise KeyError(slug)
    return _render(lesson, lang)
