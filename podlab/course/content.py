"""The course as files: lessons/NN-slug/{meta.yaml,en.md,zh-hans.md,examples/*.yaml}.

Loading is pure (no Django request involved) and cached; rendering lives in ``render.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from django.conf import settings

LANGS: tuple[str, ...] = ("en", "zh-hans")
FOLDER_RE = re.compile(r"^(?P<number>\d{2})-(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)$")
DIRECTIVE_RE = re.compile(r"^\[\[(?P<kind>example|diagram):(?P<arg>[a-z0-9][a-z0-9-]*)\]\]\s*$")


class CourseError(Exception):
    """The lesson files are inconsistent (a content bug, caught by the tests)."""


@dataclass(frozen=True)
class Example:
    id: str
    lesson_slug: str
    path: Path

    @property
    def filename(self) -> str:
        return self.path.name

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    def watch_hint(self) -> str:
        first = self.text().splitlines()[0] if self.text() else ""
        return first.removeprefix("#").strip().removeprefix("Watch:").strip()


@dataclass(frozen=True)
class Lesson:
    number: int
    slug: str
    folder: Path
    minutes: int
    title: dict[str, str]
    summary: dict[str, str]
    sources: list[dict[str, str]]
    examples: dict[str, Example] = field(default_factory=dict)

    def markdown(self, lang: str) -> str:
        return (self.folder / f"{lang}.md").read_text(encoding="utf-8")

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title["en"]

    def summary_in(self, lang: str) -> str:
        return self.summary.get(lang) or self.summary.get("en", "")


@dataclass(frozen=True)
class Course:
    lessons: list[Lesson]

    def get(self, slug: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.slug == slug), None)

    def neighbours(self, slug: str) -> tuple[Lesson | None, Lesson | None]:
        for i, lesson in enumerate(self.lessons):
            if lesson.slug == slug:
                prev = self.lessons[i - 1] if i > 0 else None
                nxt = self.lessons[i + 1] if i + 1 < len(self.lessons) else None
                return prev, nxt
        return None, None

    @property
    def examples(self) -> dict[str, Example]:
        out: dict[str, Example] = {}
        for lesson in self.lessons:
            out.update(lesson.examples)
        return out

    @property
    def total_minutes(self) -> int:
        return sum(lesson.minutes for lesson in self.lessons)


def _seed_titles(base: Path) -> dict[str, str]:
    path = base / "seeds.yaml"
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(key): str(value) for key, value in data.items()}


def _sources(raw: list, titles: dict[str, str], folder: Path) -> list[dict[str, str]]:
    """Sources as the page shows them: a seed article is named by its title, never its file."""
    out = []
    for source in raw:
        source = dict(source)
        if "seed" in source:
            title = titles.get(source["seed"])
            if not title:
                raise CourseError(f"{folder.name}: seed {source['seed']!r} has no title in "
                                  "seeds.yaml")
            source["seed_title"] = title
        out.append(source)
    return out


def _load_lesson(folder: Path) -> Lesson:
    match = FOLDER_RE.match(folder.name)
    if not match:
        raise CourseError(f"{folder.name}: lesson folders are named NN-slug")
    meta = yaml.safe_load((folder / "meta.yaml").read_text(encoding="utf-8")) or {}
    slug = match["slug"]
    if meta.get("slug", slug) != slug:
        raise CourseError(f"{folder.name}: meta.yaml slug {meta.get('slug')!r} != {slug!r}")
    examples: dict[str, Example] = {}
    example_dir = folder / "examples"
    if example_dir.is_dir():
        for path in sorted(example_dir.glob("*.yaml")):
            examples[path.stem] = Example(id=path.stem, lesson_slug=slug, path=path)
    return Lesson(
        number=int(match["number"]),
        slug=slug,
        folder=folder,
        minutes=int(meta.get("minutes", 15)),
        title=dict(meta.get("title") or {}),
        summary=dict(meta.get("summary") or {}),
        sources=_sources(list(meta.get("sources") or []), _seed_titles(folder.parent), folder),
        examples=examples,
    )


def load_course(root: Path | None = None) -> Course:
    base = Path(root or settings.LESSONS_DIR)
    folders = sorted(p for p in base.iterdir() if p.is_dir() and FOLDER_RE.match(p.name))
    lessons = [_load_lesson(folder) for folder in folders if (folder / "meta.yaml").exists()]
    seen: dict[str, str] = {}
    for lesson in lessons:
        for example_id in lesson.examples:
            if example_id in seen:
                raise CourseError(
                    f"example id {example_id!r} used by {seen[example_id]} and {lesson.slug}"
                )
            seen[example_id] = lesson.slug
    return Course(lessons=lessons)


@cache
def course() -> Course:
    """The course of this process (lesson files do not change while the server runs)."""
    return load_course()


@dataclass(frozen=True)
class GlossaryTerm:
    id: str
    term: dict[str, str]
    definition: dict[str, str]


@cache
def glossary() -> list[GlossaryTerm]:
    path = Path(settings.LESSONS_DIR) / "glossary.yaml"
    if not path.exists():
        return []
    items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    terms = []
    for item in items:
        terms.append(
            GlossaryTerm(
                id=str(item["id"]),
                term={lang: str(item[lang]["term"]) for lang in LANGS if lang in item},
                definition={lang: str(item[lang]["definition"]) for lang in LANGS if lang in item},
            )
        )
    return terms
