"""Docstrings and comments point to a section of docs/architecture.md or README.md by its name: that section exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = {"docs/architecture.md": ROOT / "docs" / "architecture.md", "README.md": ROOT / "README.md"}
# `<doc>, "Name"` or `<doc> ("Name")`, curly quotes too; a comment may wrap between the two.
CITATION = re.compile(r"(docs/architecture\.md|README\.md)(?:,|\s*\()[\s#]*[\"“]([^\"”]{1,80})[\"”]")
SOURCES = (
    "accounts",
    "amazon",
    "authorizations",
    "bench",
    "config",
    "lib",
    "sandbox",
    "scripts",
    "stores",
    "sync",
)
SOURCES += ("templates", "tests", "docs")
SUFFIXES = {".py", ".html", ".txt", ".md", ".sh", ""}


def headings(doc: Path) -> set[str]:
    return {line.lstrip("#").strip() for line in doc.read_text().splitlines() if line.startswith("#")}


def citations() -> list[tuple[str, str, str]]:
    """(citing file, document, section name) for every citation in the sources."""
    found = []
    paths = [ROOT / "README.md", *(p for s in SOURCES for p in (ROOT / s).rglob("*") if p.is_file())]
    for path in paths:
        if path.suffix not in SUFFIXES or "__pycache__" in path.parts:
            continue
        text = path.read_text(errors="replace")
        for doc, name in CITATION.findall(text):
            found.append((str(path.relative_to(ROOT)), doc, " ".join(name.replace("#", " ").split())))
    return found


def test_every_cited_section_exists_under_that_name() -> None:
    found = citations()
    assert len({doc for _, doc, _ in found}) == 2, (
        found
    )  # both documents are cited: the pattern still matches
    sections = {doc: headings(path) for doc, path in DOCS.items()}
    missing = [f'{source} cites {doc}, "{name}"' for source, doc, name in found if name not in sections[doc]]
    assert not missing, missing
