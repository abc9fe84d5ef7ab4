"""One Chinese term per concept everywhere a learner reads Chinese (lessons/terminology.yaml)."""

import re
from pathlib import Path

import polib
import pytest
import yaml
from django.conf import settings

BASE = Path(settings.BASE_DIR)
LESSONS = Path(settings.LESSONS_DIR)
TERMS = yaml.safe_load((LESSONS / "terminology.yaml").read_text(encoding="utf-8"))
HAN = re.compile(r"[\u4e00-\u9fff]")


def _strings_under_zh(node, path=""):
    """Every string in a YAML tree that sits under a ``zh-hans`` key."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "zh-hans":
                yield from _all_strings(value, f"{path}.{key}")
            else:
                yield from _strings_under_zh(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings_under_zh(value, f"{path}[{index}]")


def _all_strings(node, path):
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _all_strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _all_strings(value, f"{path}[{index}]")


def chinese_texts():
    """(place, text) for all Chinese a learner can see."""
    for path in sorted(LESSONS.glob("*/zh-hans.md")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            yield f"{path.relative_to(BASE)}:{number}", line
    yaml_files = sorted(LESSONS.glob("*/quiz.yaml")) + sorted(LESSONS.glob("*/meta.yaml"))
    for path in [*yaml_files, LESSONS / "glossary.yaml"]:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for where, text in _strings_under_zh(data):
            yield f"{path.relative_to(BASE)}{where}", text
    for po in sorted((BASE / "locale").glob("*/LC_MESSAGES/*.po")):
        for entry in polib.pofile(str(po)):
            yield f"{po.relative_to(BASE)}:{entry.linenum}", entry.msgstr
            for text in entry.msgstr_plural.values():
                yield f"{po.relative_to(BASE)}:{entry.linenum}", text
    for path in sorted((BASE / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if HAN.search(line):
                yield f"{path.relative_to(BASE)}:{number}", line


def offenders(texts, terms=TERMS):
    found = []
    for place, text in texts:
        for concept in terms:
            for variant in concept["avoid"]:
                if variant in text:
                    found.append(f"{place}: {variant!r} -> {concept['term']!r}")
    return found


def test_terminology_file_is_consistent():
    assert len(TERMS) >= 10
    for concept in TERMS:
        assert concept["term"] and concept["avoid"], concept
        assert concept["term"] not in concept["avoid"], concept
        for variant in concept["avoid"]:
            assert variant not in concept["term"], concept


def test_the_check_finds_a_non_chosen_term():
    found = offenders([("x.md:1", "创建名字空间后再配置存活态探针。"), ("x.md:2", "命名空间")])
    assert found == ["x.md:1: '名字空间' -> '命名空间'", "x.md:1: '存活态' -> '存活探针'"]


def test_chinese_text_uses_one_term_per_concept():
    texts = list(chinese_texts())
    assert sum(1 for _, text in texts if HAN.search(text)) > 2000
    found = offenders(texts)
    assert not found, "non-chosen Chinese terms:\n" + "\n".join(found[:40])


@pytest.mark.parametrize("concept", TERMS, ids=[c["concept"] for c in TERMS])
def test_chosen_term_is_glossary_consistent(concept):
    """A glossary entry naming the concept uses the chosen term."""
    glossary = yaml.safe_load((LESSONS / "glossary.yaml").read_text(encoding="utf-8"))
    for item in glossary:
        if item.get("en", {}).get("term", "").lower() == concept["concept"]:
            assert concept["term"] in item["zh-hans"]["term"], item
