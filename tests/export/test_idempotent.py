"""The manifest rules: idempotent re-export, --dry-run, never overwriting what skillforge did not
write (unless --force), removing what a newer version no longer has."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillforge.errors import SkillforgeError
from skillforge.export.exporter import export_version
from skillforge.export.manifest import MANIFEST_PATH
from skillforge.export.registry import HOSTS
from tests.export.conftest import add_version, stored_files, tree, without_references

SKILL_MD = ".claude/skills/airline/SKILL.md"
EVIDENCE = ".claude/skills/airline/references/evidence.md"


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_exporting_twice_changes_nothing(host: str, store: Path, project: Path) -> None:
    first = export_version("airline", host, store_root=store)
    before = {p: (project / p).stat().st_mtime_ns for p in tree(project)}
    contents = tree(project)
    second = export_version("airline", host, store_root=store)
    assert {a.kind for a in first.actions} == {"create"}
    assert {a.kind for a in second.actions} == {"unchanged"}
    assert tree(project) == contents
    assert {p: (project / p).stat().st_mtime_ns for p in tree(project)} == before  # not even rewritten


def test_dry_run_writes_nothing(store: Path, project: Path) -> None:
    result = export_version("airline", "claude-code", store_root=store, dry_run=True)
    assert [(a.path, a.kind) for a in result.actions] == [(SKILL_MD, "create"), (EVIDENCE, "create")]
    assert result.dry_run and tree(project) == {}


def test_never_overwrites_a_file_it_did_not_write(store: Path, project: Path) -> None:
    mine = project / SKILL_MD
    mine.parent.mkdir(parents=True)
    mine.write_text("my own skill\n")
    preview = export_version("airline", "claude-code", store_root=store, dry_run=True)
    assert [(a.kind, a.reason) for a in preview.actions] == [("conflict", "not written by skillforge"), ("create", "")]
    with pytest.raises(SkillforgeError, match=r"nothing exported: .*SKILL.md \(not written by skillforge\).*--force"):
        export_version("airline", "claude-code", store_root=store)
    assert tree(project) == {SKILL_MD: b"my own skill\n"}  # nothing written, not even the other file
    forced = export_version("airline", "claude-code", store_root=store, force=True)
    assert [a.kind for a in forced.actions] == ["overwrite", "create"]
    assert mine.read_bytes() == stored_files(store, "airline")["SKILL.md"]
    assert export_version("airline", "claude-code", store_root=store).actions[0].kind == "unchanged"


def test_an_identical_file_is_adopted(store: Path, project: Path) -> None:
    (project / SKILL_MD).parent.mkdir(parents=True)
    (project / SKILL_MD).write_bytes(stored_files(store, "airline")["SKILL.md"])
    result = export_version("airline", "claude-code", store_root=store)
    assert [a.kind for a in result.actions] == ["unchanged", "create"]
    assert SKILL_MD in json.loads((project / MANIFEST_PATH).read_text())["files"]


def test_a_file_edited_since_export_is_not_overwritten(store: Path, project: Path) -> None:
    export_version("airline", "claude-code", store_root=store)
    add_version(
        store,
        "airline",
        lambda folder: (folder / "SKILL.md").write_text(
            (folder / "SKILL.md").read_text().replace("## Pitfalls", "## Pitfalls\n\nRead this first.", 1)
        ),
    )
    (project / SKILL_MD).write_text((project / SKILL_MD).read_text() + "\nmy note\n")
    with pytest.raises(SkillforgeError, match="edited since skillforge wrote it"):
        export_version("airline", "claude-code", store_root=store)
    assert (project / SKILL_MD).read_text().endswith("\nmy note\n")
    export_version("airline", "claude-code", store_root=store, force=True)
    assert "Read this first." in (project / SKILL_MD).read_text()


def test_a_newer_version_updates_and_removes_stale_files(store: Path, project: Path) -> None:
    export_version("airline", "claude-code", store_root=store)
    version = add_version(store, "airline", without_references)
    result = export_version(f"airline@v{version}", "claude-code", store_root=store)
    assert [(a.path, a.kind) for a in result.actions] == [(SKILL_MD, "update"), (EVIDENCE, "remove")]
    assert set(tree(project)) == {SKILL_MD, MANIFEST_PATH}
    assert not (project / ".claude/skills/airline/references").exists()  # emptied folder pruned
    assert (project / SKILL_MD).read_bytes() == stored_files(store, "airline", version)["SKILL.md"]
    manifest = json.loads((project / MANIFEST_PATH).read_text())
    assert set(manifest["files"]) == {SKILL_MD} and manifest["files"][SKILL_MD]["version"] == version
    back = export_version("airline@v1", "claude-code", store_root=store)  # and back to v1
    assert [(a.path, a.kind) for a in back.actions] == [(SKILL_MD, "update"), (EVIDENCE, "create")]


def test_stale_file_edited_by_hand_is_kept(store: Path, project: Path) -> None:
    export_version("airline", "claude-code", store_root=store)
    (project / EVIDENCE).write_text("my notes\n")
    version = add_version(store, "airline", without_references)
    result = export_version(f"airline@v{version}", "claude-code", store_root=store)
    assert [a.kind for a in result.actions] == ["update", "keep"]
    assert (project / EVIDENCE).read_text() == "my notes\n"
    assert f"{EVIDENCE} left alone: no longer in the skill, but edited since skillforge wrote it" in result.warnings


def test_files_skillforge_did_not_write_in_the_skill_folder_are_reported_and_kept(store: Path, project: Path) -> None:
    export_version("airline", "claude-code", store_root=store)
    (project / ".claude/skills/airline/notes.md").write_text("mine\n")
    result = export_version("airline", "claude-code", store_root=store)
    assert result.warnings == [".claude/skills/airline/notes.md left alone: not written by skillforge"]
    assert (project / ".claude/skills/airline/notes.md").read_text() == "mine\n"


def test_two_hosts_sharing_a_folder_do_not_fight(store: Path, project: Path) -> None:
    export_version("airline", "codex", store_root=store)
    result = export_version("airline", "goose", store_root=store)  # same .agents/skills/ path
    assert {a.kind for a in result.actions} == {"unchanged"}


def test_a_corrupt_manifest_is_a_clear_error(store: Path, project: Path) -> None:
    (project / ".skillforge").mkdir()
    (project / MANIFEST_PATH).write_text("{not json")
    with pytest.raises(SkillforgeError, match="unreadable export manifest.*delete it"):
        export_version("airline", "claude-code", store_root=store)
    assert set(tree(project)) == {MANIFEST_PATH}


def test_an_invalid_version_is_never_exported(store: Path, project: Path) -> None:
    def host_specific_key(folder: Path) -> None:  # Claude Code's `context` is not a portable key
        text = (folder / "SKILL.md").read_text()
        (folder / "SKILL.md").write_text(text.replace("---\n", "---\ncontext: fork\n", 1))

    version = add_version(store, "airline", host_specific_key)
    from skillforge.export.validity import InvalidSkillError

    with pytest.raises(
        InvalidSkillError, match=f"airline v{version} is not a valid skill, so it is not exported .*'context'"
    ) as caught:
        export_version("airline", "claude-code", store_root=store)
    assert any(v.rule == "frontmatter.keys" for v in caught.value.report.errors)
    assert tree(project) == {}
