"""Every host: export a skill distilled from the real traces into a temporary project (and home),
check the exact paths written and parse what was written."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from skillforge.errors import SkillforgeError
from skillforge.export.block import find_block
from skillforge.export.exporter import export_version
from skillforge.export.host import ExportOptions
from skillforge.export.manifest import MANIFEST_PATH
from skillforge.export.registry import HOSTS
from skillforge.skill.frontmatter import parse_frontmatter
from tests.export.conftest import stored_files, tree

SPEC_KEYS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
SKILL_FILES = ("SKILL.md", "references/evidence.md")

NATIVE = {
    "claude-code": (".claude/skills", ".claude/skills"),
    "agents": (".agents/skills", ".agents/skills"),
    "codex": (".agents/skills", ".agents/skills"),
    "codex-legacy": (".codex/skills", ".codex/skills"),
    "gemini": (".gemini/skills", ".gemini/skills"),
    "copilot": (".github/skills", ".copilot/skills"),
    "cursor": (".cursor/skills", ".cursor/skills"),
    "opencode": (".opencode/skills", ".config/opencode/skills"),
    "goose": (".agents/skills", ".agents/skills"),
    "amp": (".agents/skills", ".config/amp/skills"),
    "windsurf": (".windsurf/skills", ".codeium/windsurf/skills"),
}
SINGLE_FILE = {  # host: (project path, user path or None)
    "cursor-rules": (".cursor/rules/airline.mdc", None),
    "copilot-instructions": (
        ".github/instructions/airline.instructions.md",
        ".copilot/instructions/airline.instructions.md",
    ),
    "windsurf-rules": (".windsurf/rules/airline.md", None),
    "agents-md": ("AGENTS.md", ".codex/AGENTS.md"),
    "claude-md": ("CLAUDE.md", ".claude/CLAUDE.md"),
    "bundle": ("airline.skill", None),
}


def test_every_registered_host_has_a_test_here() -> None:
    assert set(HOSTS) == set(NATIVE) | set(SINGLE_FILE)


def _frontmatter(text: str) -> tuple[dict, str]:
    data, body_line = parse_frontmatter(text)
    assert data is not None, text[:200]
    return data, "".join(text.splitlines(keepends=True)[body_line:]).lstrip("\n")


@pytest.mark.parametrize("host", sorted(NATIVE))
@pytest.mark.parametrize("scope", ["project", "user"])
def test_native_hosts_get_the_portable_skill_folder(
    host: str, scope: str, store: Path, project: Path, home: Path
) -> None:
    result = export_version("airline", host, store_root=store, scope=scope)  # type: ignore[arg-type]
    root = project if scope == "project" else home
    base = NATIVE[host][0 if scope == "project" else 1]
    assert result.root == root
    written = tree(root)
    assert set(written) == {f"{base}/airline/{f}" for f in SKILL_FILES} | {MANIFEST_PATH}
    other = home if scope == "project" else project
    assert tree(other) == {}, "nothing may be written outside the chosen root"
    original = stored_files(store, "airline")
    for relative in SKILL_FILES:
        assert written[f"{base}/airline/{relative}"] == original[relative]
    frontmatter, body = _frontmatter(written[f"{base}/airline/SKILL.md"].decode())
    assert frontmatter["name"] == "airline" and set(frontmatter) <= SPEC_KEYS  # no host-specific key
    assert frontmatter["metadata"]["version"] == "1"
    assert "](references/evidence.md)" in body
    assert [a.kind for a in result.actions] == ["create", "create"]


def test_cursor_rules_mdc_with_real_boolean(store: Path, project: Path) -> None:
    result = export_version("airline", "cursor-rules", store_root=store)
    assert set(tree(project)) == {".cursor/rules/airline.mdc", MANIFEST_PATH}
    text = (project / ".cursor/rules/airline.mdc").read_text()
    frontmatter, body = _frontmatter(text)
    description = stored_description(store)
    assert frontmatter == {"description": description, "alwaysApply": False}
    assert frontmatter["alwaysApply"] is False  # a YAML boolean, not the string "false"
    assert len(text.splitlines()) <= 500
    assert body.startswith("# Airline\n")
    # the reference is inlined under its own heading and the link points at it
    assert (
        "\n## Reference: evidence\n\n### Evidence: all items\n" in body
        and body.count("| Lesson | Kind | Support |") == 2
    )
    assert "[references/evidence.md](#reference-evidence)" in body and "](references/" not in body
    assert result.warnings == []


def test_cursor_rules_with_globs_is_auto_attached(store: Path, project: Path) -> None:
    export_version("airline", "cursor-rules", store_root=store, options=ExportOptions(globs="src/**/*.py,tests/**"))
    frontmatter, _ = _frontmatter((project / ".cursor/rules/airline.mdc").read_text())
    assert frontmatter == {
        "description": stored_description(store),
        "globs": "src/**/*.py,tests/**",
        "alwaysApply": False,
    }


@pytest.mark.parametrize("scope", ["project", "user"])
def test_copilot_instructions_apply_to(scope: str, store: Path, project: Path, home: Path) -> None:
    export_version("airline", "copilot-instructions", store_root=store, scope=scope)  # type: ignore[arg-type]
    root, path = (
        (project, SINGLE_FILE["copilot-instructions"][0])
        if scope == "project"
        else (home, SINGLE_FILE["copilot-instructions"][1])
    )
    assert set(tree(root)) == {path, MANIFEST_PATH}
    frontmatter, body = _frontmatter((root / path).read_text())
    assert frontmatter == {"applyTo": "**"}
    # no description key in Copilot's frontmatter: the description opens the document
    assert body.startswith(f"# Airline\n\n{stored_description(store)}\n\n")
    assert "## Reference: evidence" in body


def test_copilot_instructions_globs(store: Path, project: Path) -> None:
    export_version("airline", "copilot-instructions", store_root=store, options=ExportOptions(globs="**/*.ts,**/*.tsx"))
    frontmatter, _ = _frontmatter((project / SINGLE_FILE["copilot-instructions"][0]).read_text())
    assert frontmatter == {"applyTo": "**/*.ts,**/*.tsx"}


def test_windsurf_rules_cut_to_12000_characters_with_warnings(store: Path, project: Path) -> None:
    original = stored_files(store, "airline")
    assert len(original["SKILL.md"]) + len(original["references/evidence.md"]) > 12_000  # the cut is real
    result = export_version("airline", "windsurf-rules", store_root=store)
    assert set(tree(project)) == {".windsurf/rules/airline.md", MANIFEST_PATH}
    text = (project / ".windsurf/rules/airline.md").read_text()
    assert len(text) <= 12_000
    frontmatter, body = _frontmatter(text)
    assert frontmatter == {"trigger": "model_decision", "description": stored_description(store)}
    assert "## Pitfalls" in body and "## Evidence" not in body  # cut before the last section
    assert body.rstrip().endswith("the full skill.]_")
    assert "Reference: evidence" not in body and "](references/" not in body
    assert any(w.startswith("references/evidence.md not inlined") for w in result.warnings)
    assert any("SKILL.md cut" in w and "Evidence" in w for w in result.warnings)


def test_windsurf_rules_glob_trigger(store: Path, project: Path) -> None:
    export_version("spotter", "windsurf-rules", store_root=store, options=ExportOptions(globs="lib/**/*.ex"))
    frontmatter, _ = _frontmatter((project / ".windsurf/rules/spotter.md").read_text())
    assert frontmatter == {"trigger": "glob", "globs": "lib/**/*.ex"}


@pytest.mark.parametrize(("host", "limit", "unit"), [("agents-md", 32_768, "bytes"), ("claude-md", 40_000, "chars")])
@pytest.mark.parametrize("scope", ["project", "user"])
def test_instructions_files_get_a_managed_block(
    host: str, limit: int, unit: str, scope: str, store: Path, project: Path, home: Path
) -> None:
    result = export_version("airline", host, store_root=store, scope=scope)  # type: ignore[arg-type]
    root = project if scope == "project" else home
    path = SINGLE_FILE[host][0 if scope == "project" else 1]
    assert set(tree(root)) == {path, MANIFEST_PATH}
    text = (root / path).read_text()
    size = len(text.encode()) if unit == "bytes" else len(text)
    assert size <= limit
    assert not text.startswith("---")  # plain Markdown, no frontmatter
    span = find_block(text, "airline", path)
    assert span is not None and not span.edited and span.start == 0 and span.end == len(text)
    assert text.startswith("<!-- skillforge:begin airline v1 sha256:")
    assert span.inner.startswith(f"## Airline\n\n{stored_description(store)}\n\n")
    assert "\n### Pitfalls\n" in span.inner  # headings one level down
    # loaded into every conversation: the evidence table stays in the store, one line says where
    assert "| Lesson | Kind | Support |" not in span.inner and "Reference: evidence" not in span.inner
    evidence = span.inner.split("\n### Evidence\n", 1)[1]
    assert evidence.strip() == evidence_pointer_line("airline@v1")
    stored = stored_files(store, "airline")
    assert size < (len(stored["SKILL.md"]) + len(stored["references/evidence.md"])) * 3 // 4  # much smaller
    assert result.warnings == []


def test_bundle_is_a_zip_with_one_top_level_folder(store: Path, project: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    result = export_version("airline", "bundle", store_root=store, dest=dist)
    assert result.root == dist
    assert set(tree(dist)) == {"airline.skill"}  # the bundle only: no export manifest beside it
    assert tree(project) == {}
    with zipfile.ZipFile(io.BytesIO((dist / "airline.skill").read_bytes())) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == [f"airline/{f}" for f in SKILL_FILES]
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist())
        original = stored_files(store, "airline")
        assert {n.removeprefix("airline/"): archive.read(n) for n in archive.namelist()} == original


def test_unsupported_scope_is_a_clear_error(store: Path, project: Path) -> None:
    for host in ("cursor-rules", "windsurf-rules", "bundle"):
        with pytest.raises(SkillforgeError, match=f"{host} has no user scope"):
            export_version("airline", host, store_root=store, scope="user")
    with pytest.raises(SkillforgeError, match="unknown host 'vscode'"):
        export_version("airline", "vscode", store_root=store)
    with pytest.raises(SkillforgeError, match="no versions of 'nope'"):
        export_version("nope", "claude-code", store_root=store)
    with pytest.raises(SkillforgeError, match="airline has no v9"):
        export_version("airline@v9", "claude-code", store_root=store)
    assert tree(project) == {}


def evidence_pointer_line(ref: str) -> str:
    return (
        "The lessons and trajectory steps behind each item are kept in the skill store, out of this "
        f"always-loaded file: `skillforge blame {ref}` shows them."
    )


def stored_description(store: Path) -> str:
    frontmatter, _ = parse_frontmatter(stored_files(store, "airline")["SKILL.md"].decode())
    assert frontmatter is not None
    return frontmatter["description"]
