"""The project stands alone: no tracked file points to a document outside the repository, every relative link of
the README and docs/ opens a file of the repository, every `docs/….md` a file cites exists, every
`docs/architecture.md, decision N` (or quoted section) a comment cites is a section of docs/architecture.md, and
its environment table matches the code."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Written in pieces so that this file does not match itself.
OUTSIDE = (".." + "/shared", "DESIGN" + ".md", "DATA_CONTRACT" + ".md", "/wo" + "rk/")
MARKDOWN_LINK = re.compile(
    r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|<img\s[^>]*src=\"([^\"]+)\""
)
DECISION_CITE = re.compile(r"docs/architecture\.md, decision (\d+)")
SECTION_CITE = re.compile(r"docs/architecture\.md, \"([^\"]+)\"")


def tracked_files() -> list[Path]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed: the tracked files cannot be listed")
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False, text=True)
    if listing.returncode != 0:
        pytest.skip(f"not a git checkout ({listing.stderr.strip()[:100]})")
    return [ROOT / name for name in listing.stdout.split("\0") if name]


def text_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
        return []  # binary (images, fonts) or deleted in the work tree


def test_no_tracked_file_refers_to_a_document_outside_the_repository():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {needle}"
        for path in tracked_files()
        for number, line in enumerate(text_lines(path), start=1)
        for needle in OUTSIDE
        if needle in line
    ]
    assert found == [], "references to documents outside the repository:\n" + "\n".join(found)


def test_every_relative_link_of_the_readme_and_the_docs_opens_a_file_of_the_repository():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    links = 0
    broken = []
    for page in pages:
        for number, line in enumerate(text_lines(page), start=1):
            for match in MARKDOWN_LINK.finditer(line):
                target = (match.group(1) or match.group(2)).split("#", 1)[0]
                if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target):
                    continue  # an anchor on the same page, or an absolute URL (https:, mailto:)
                links += 1
                resolved = (page.parent / target).resolve()
                if not resolved.exists() or not resolved.is_relative_to(ROOT):
                    broken.append(f"{page.relative_to(ROOT)}:{number}: {target}")
    assert links > 0  # the README links docs/data-contract.md at least
    assert broken == [], "links that open nothing in the repository:\n" + "\n".join(broken)


def test_every_project_document_a_file_cites_exists():
    cited = re.compile(r"\bdocs/[A-Za-z0-9_.-]+\.md\b")
    missing = [
        f"{path.relative_to(ROOT)}:{number}: {name}"
        for path in tracked_files()
        for number, line in enumerate(text_lines(path), start=1)
        for name in cited.findall(line)
        if not (ROOT / name).is_file()
    ]
    assert missing == [], "cited documents that the repository does not have:\n" + "\n".join(missing)


def architecture_headings() -> list[str]:
    return [
        line.lstrip("#").strip()
        for line in text_lines(ROOT / "docs" / "architecture.md")
        if line.startswith("#")
    ]


def test_every_decision_cited_in_the_code_is_a_section_of_the_architecture_doc():
    headings = architecture_headings()
    numbers = {int(m.group(1)) for h in headings if (m := re.match(r"Decision (\d+)\b", h))}
    missing = []
    for path in tracked_files():
        for number, line in enumerate(text_lines(path), start=1):
            for cited in DECISION_CITE.findall(line):
                if int(cited) not in numbers:
                    missing.append(f"{path.relative_to(ROOT)}:{number}: decision {cited}")
            for title in SECTION_CITE.findall(line):
                if not any(title in heading for heading in headings):
                    missing.append(f"{path.relative_to(ROOT)}:{number}: section {title!r}")
    assert numbers, "docs/architecture.md has no 'Decision N' sections"
    assert missing == [], "cited but not in docs/architecture.md:\n" + "\n".join(missing)


def test_the_decisions_are_numbered_one_to_eight_without_gaps():
    numbers = [int(m.group(1)) for h in architecture_headings() if (m := re.match(r"Decision (\d+)\b", h))]
    assert numbers == list(range(1, 9))


def environment_table() -> str:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    return text.split("## Environment of every function", 1)[1].split("\n## ", 1)[0]


def test_the_environment_table_lists_every_variable_the_code_reads_or_the_stack_sets_and_no_other():
    settings = (ROOT / "layers/domain/python/coach/settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r"\"([A-Z][A-Z0-9]*_[A-Z0-9_]+)\"", settings))  # every name settings.py spells
    stack_sources = [path.read_text(encoding="utf-8") for path in (ROOT / "stacks").rglob("*.py")]
    local_sources = [path.read_text(encoding="utf-8") for path in (ROOT / "coach_local").rglob("*.py")]
    set_by_stack = {
        name
        for source in stack_sources
        for pattern in (r"add_environment\(\"([A-Z][A-Z0-9_]+)\"", r"\"(POWERTOOLS_[A-Z_]+)\"")
        for name in re.findall(pattern, source)
    }
    powertools_locally = {
        n for source in local_sources for n in re.findall(r"\"(POWERTOOLS_[A-Z_]+)\"", source)
    }
    expected = read | set_by_stack | powertools_locally
    assert {"DATA_BUCKET", "STATE_MACHINE_ARN", "AUDIT_BUCKET", "POWERTOOLS_LOG_LEVEL"} <= expected  # parsed
    listed = set(re.findall(r"`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`", environment_table()))
    assert sorted(expected - listed) == [], "read or set but not in the environment table"
    assert sorted(listed - expected) == [], "in the environment table but nothing reads or sets it"
