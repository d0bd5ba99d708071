"""Code and docs cite docs/theory.md or the papers, never a file outside the repository."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: design notes that live outside the repository (names built here so this file is clean)
OUTSIDE = [name + ".md" for name in ("PAPERS", "DESIGN", "STYLE", "PROTOTYPE-FINDINGS")]
SUFFIXES = {".py", ".md", ".rst", ".toml", ".cfg", ".ini", ".txt", ".yml", ".yaml", ".json"}
SKIP = {".git", ".venv", "build", "_build", "auto_examples", "results", ".pytest_cache"}


def _text_files():
    for path in ROOT.rglob("*"):
        parts = set(path.relative_to(ROOT).parts)
        if path.is_file() and path.suffix in SUFFIXES and not parts & SKIP:
            if not any(p.endswith(".egg-info") for p in parts):
                yield path


def test_no_reference_to_a_file_outside_the_repository():
    found = []
    for path in _text_files():
        for k, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            found += [f"{path.relative_to(ROOT)}:{k}: {n}" for n in OUTSIDE if n in line]
    assert not found, "\n".join(found)


def test_the_theory_page_has_the_sections_the_code_cites():
    headings = [
        line.split()[1]
        for line in (ROOT / "docs" / "theory.md").read_text().splitlines()
        if line.startswith("## ") or line.startswith("### ")
    ]
    for section in ["1.", "2.", "3.", "4.", "4.1", "4.2", "4.3", "5.", "5.1", "5.7", "6.", "7."]:
        assert section in headings, (section, headings)
