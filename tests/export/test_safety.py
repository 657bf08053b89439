"""Path safety, with each escape planted: names with '..', links pointing out of a stored version,
of a skill folder or of the destination, and zip entries with traversal."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import git
import pytest

from skillforge.errors import SkillforgeError
from skillforge.export.exporter import export_version, parse_ref
from skillforge.export.importer import import_skill
from skillforge.export.paths import check_relative, safe_target
from skillforge.export.source import read_files
from skillforge.store.git_store import SkillStore
from tests.export.conftest import stored_files, tree


@pytest.mark.parametrize("ref", ["../evil", "a/../../b", "/etc/passwd", "Airline", "air--line", "x@v1@v2", ""])
def test_names_that_could_escape_are_refused(ref: str, store: Path, project: Path) -> None:
    with pytest.raises(SkillforgeError):
        parse_ref(ref)
    with pytest.raises(SkillforgeError):
        export_version(ref, "claude-code", store_root=store)
    assert tree(project) == {}


@pytest.mark.parametrize("path", ["/abs/x", "../x", "a/../../x", "a\\..\\x", "C:/x", "", ".", "a\x00b"])
def test_unsafe_relative_paths_are_refused(path: str, tmp_path: Path) -> None:
    with pytest.raises(SkillforgeError, match="unsafe path"):
        check_relative(path)
    with pytest.raises(SkillforgeError):
        safe_target(tmp_path, path)


def _commit_link(store: Path, link: str, target: str) -> None:
    """Plant a symbolic link in a new version of airline, committed straight into the store's git."""
    repo = git.Repo(store)
    os.symlink(target, store / "airline" / link)
    repo.git.add("--all", "--", "airline")
    commit = repo.index.commit("airline v2 (planted link)")
    repo.create_tag("airline/v2", ref=commit)


@pytest.mark.parametrize("target", ["/etc/passwd", "../../../outside.txt"])
def test_a_stored_link_pointing_out_is_refused(target: str, store: Path, project: Path) -> None:
    _commit_link(store, "references/leak.md", target)
    assert SkillStore(store).latest_version("airline") == 2
    with pytest.raises(SkillforgeError, match="airline v2 holds an unsafe entry"):
        export_version("airline", "claude-code", store_root=store)
    assert tree(project) == {}


def test_a_link_inside_the_skill_is_exported_as_a_plain_file(store: Path, project: Path) -> None:
    _commit_link(store, "references/alias.md", "evidence.md")
    export_version("airline", "claude-code", store_root=store)
    alias = project / ".claude/skills/airline/references/alias.md"
    assert not alias.is_symlink() and alias.read_bytes() == stored_files(store, "airline", 1)["references/evidence.md"]


def test_a_skill_folder_with_a_link_pointing_out_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not ship\n")
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "SKILL.md").write_text("---\nname: demo\ndescription: d\n---\n# Demo\n\nText.\n")
    os.symlink(secret, folder / "notes.md")
    with pytest.raises(SkillforgeError, match="notes.md: symbolic link pointing outside the skill folder"):
        read_files(folder)
    with pytest.raises(SkillforgeError, match="pointing outside"):
        import_skill(folder, tmp_path / "skills")
    assert not (tmp_path / "skills").exists()
    os.unlink(folder / "notes.md")
    os.symlink(tmp_path, folder / "more")
    with pytest.raises(SkillforgeError, match="symbolic link to a folder"):
        read_files(folder)


def test_a_destination_folder_linking_out_is_refused(store: Path, project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / ".claude").mkdir()
    os.symlink(outside, project / ".claude" / "skills")
    with pytest.raises(SkillforgeError, match="outside .*refusing to write"):
        export_version("airline", "claude-code", store_root=store)
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(("host", "path"), [("cursor-rules", ".cursor/rules/airline.mdc"), ("agents-md", "AGENTS.md")])
def test_a_destination_file_that_is_a_link_is_refused(
    host: str, path: str, store: Path, project: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.md"
    victim.write_text("precious\n")
    (project / path).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(victim, project / path)
    with pytest.raises(SkillforgeError, match="refusing"):
        export_version("airline", host, store_root=store)
    assert victim.read_text() == "precious\n"


def _zip(path: Path, entries: list[tuple[str, bytes] | zipfile.ZipInfo], link: tuple[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link[0])
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, link[1])
    return path


SKILL = b"---\nname: demo\ndescription: A demo skill. Use when testing.\n---\n# Demo\n\nText.\n"


@pytest.mark.parametrize(
    ("entries", "link", "message"),
    [
        ([("demo/SKILL.md", SKILL), ("../evil.md", b"x")], None, "'..' is not allowed"),
        ([("demo/SKILL.md", SKILL), ("demo/../../evil.md", b"x")], None, "'..' is not allowed"),
        ([("demo/SKILL.md", SKILL), ("/tmp/evil.md", b"x")], None, "absolute paths"),
        ([("demo/SKILL.md", SKILL), ("demo\\..\\..\\evil.md", b"x")], None, "backslash"),
        ([("demo/SKILL.md", SKILL)], ("demo/references/leak.md", "/etc/passwd"), "is a symbolic link"),
        ([("demo/SKILL.md", SKILL), ("other/SKILL.md", SKILL)], None, "exactly one top-level folder"),
        ([("SKILL.md", SKILL)], None, "outside the bundle's top-level skill folder"),
        ([("Demo_Skill/SKILL.md", SKILL)], None, "not a valid skill name"),
        ([("demo/SKILL.md", SKILL), ("demo//SKILL.md", SKILL)], None, "appears twice"),
    ],
)
def test_unsafe_bundles_are_refused_and_nothing_is_written(entries, link, message: str, tmp_path: Path) -> None:
    bundle = _zip(tmp_path / "bad.skill", entries, link)
    with pytest.raises(SkillforgeError, match=message):
        import_skill(bundle, tmp_path / "skills")
    assert not (tmp_path / "skills").exists()
    assert not (tmp_path / "evil.md").exists() and not Path("/tmp/evil.md").exists()


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.skill").write_text("hello")
    with pytest.raises(SkillforgeError, match="not a .skill bundle"):
        import_skill(tmp_path / "x.skill", tmp_path / "skills")
