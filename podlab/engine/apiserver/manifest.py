"""Manifests in: YAML text -> validated, defaulted v1 objects, or located problems.

``parse_manifests`` is the one entry point the simulation, the lab and ``podsim`` use:

1. the text is loaded with the bounded loader (:mod:`podlab.engine.apiserver.yamlload`); a syntax or
   limit error ends loading and is the only problem reported;
2. empty documents are skipped; a document that is not a mapping is a problem;
3. each object is validated (:mod:`podlab.engine.apiserver.validation`), every problem at once;
4. each valid object is defaulted (:mod:`podlab.engine.apiserver.defaults`).

``ManifestResult.objects`` only ever holds valid objects; when any problem exists the caller
decides what to do (``podsim`` exits with status 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from podlab.engine.apiserver.defaults import apply_defaults
from podlab.engine.apiserver.validation import Note, Problem, kubectl_error, validate
from podlab.engine.apiserver.yamlload import Document, YAMLLoadError, load_documents


@dataclass
class ManifestResult:
    """What came out of one manifest text."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    filename: str = "<stdin>"
    #: (kind, name) of each document that held an object, by document index.
    documents: dict[int, tuple[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def kubectl_line(self) -> str:
        """What ``kubectl create -f`` prints for the first failing document ("" if none)."""
        if not self.problems:
            return ""
        first = self.problems[0].document
        kind, name = self.documents.get(first, ("Pod", ""))
        return kubectl_error(
            [p for p in self.problems if p.document == first],
            kind=kind,
            name=name,
            filename=self.filename,
        )


def _expand_lists(documents: list[Document]) -> list[Document]:
    """``kind: List`` (``v1``) documents stand for their ``items``, as kubectl reads them;
    each item keeps the positions it was written at."""
    out: list[Document] = []
    for document in documents:
        data = document.data
        items = data.get("items") if isinstance(data, dict) else None
        if not (
            isinstance(data, dict) and data.get("kind") == "List"
            and data.get("apiVersion") == "v1" and isinstance(items, list)
        ):
            out.append(document)
            continue
        for i, item in enumerate(items):
            prefix = ("items", i)

            def sub(positions: dict[Any, Any], prefix: tuple[Any, ...] = prefix) -> dict[Any, Any]:
                return {
                    tuple(path[2:]): pos for path, pos in positions.items()
                    if tuple(path[:2]) == prefix
                }

            line, column = document.value_position(prefix)
            out.append(
                Document(
                    index=document.index, data=item, line=line, column=column,
                    values=sub(document.values), keys=sub(document.keys),
                )
            )
    return out


def parse_manifests(
    text: str | bytes, *, filename: str = "<stdin>", seed: int | str = 0
) -> ManifestResult:
    """Load, validate and default every object in ``text``; never raises for bad input."""
    result = ManifestResult(filename=filename)
    try:
        documents = load_documents(text)
    except YAMLLoadError as error:
        result.problems.append(
            Problem(
                path="",
                line=error.line,
                column=error.column,
                code=error.code,
                message=error.message,
                detail=error.detail,
                document=error.document,
            )
        )
        return result
    valid: list[tuple[int, dict[str, Any]]] = []
    for document in _expand_lists(documents):
        if document.data is None:
            continue
        data = document.data
        if isinstance(data, dict):
            meta = data.get("metadata")
            name = meta.get("name") if isinstance(meta, dict) else None
            kind = data.get("kind")
            result.documents[document.index] = (
                kind if isinstance(kind, str) and kind else "Object",
                name if isinstance(name, str) else "",
            )
        checked = validate(data, document=document, index=document.index)
        result.problems.extend(checked.problems)
        result.notes.extend(checked.notes)
        if checked.ok:
            valid.append((document.index, data))
    for index, data in valid:
        result.objects.append(apply_defaults(data, seed=seed, index=index))
    return result
