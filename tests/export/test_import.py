"""`export --to bundle` → `import` round trip, and importing skill folders."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import git
import pytest

from skillforge.export.bundle import read_bundle
from skillforge.export.exporter import export_version
from skillforge.export.importer import import_skill
from skillforge.export.validity import InvalidSkillError
from skillforge.skill.frontmatter import parse_frontmatter
from skillforge.store.git_store import SkillStore
from skillforge.store.stamp import stamp_version
from tests.export.conftest import stored_files, tree


def _metadata_version(text: str) -> str:
    frontmatter, _ = parse_frontmatter(text)
    assert frontmatter is not None
    return str(frontmatter["metadata"]["version"])


def _tree_id(store: Path, name: str, version: int) -> str:
    """The git tree id of a stored skill folder: equal ids mean byte-identical files and modes."""
    return git.Repo(store).git.rev_parse(f"{name}/v{version}:{name}")


@pytest.mark.parametrize("name", ["airline", "spotter"])
def test_bundle_round_trip_is_byte_identical(name: str, store: Path, tmp_path: Path, project: Path) -> None:
    export_version(name, "bundle", store_root=store, dest=tmp_path / "dist")
    fresh = tmp_path / "fresh-store"
    result = import_skill(tmp_path / "dist" / f"{name}.skill", fresh)
    assert result.stored and result.name == name and result.version.version == 1
    assert stored_files(fresh, name) == stored_files(store, name)
    assert _tree_id(fresh, name, 1) == _tree_id(store, name, 1)
    info = SkillStore(fresh).versions(name)[0].info
    assert info["analyst"] == "import" and info["inputs"] == [str(tmp_path / "dist" / f"{name}.skill")]
    # importing the same content again stores nothing, in either store
    again = import_skill(tmp_path / "dist" / f"{name}.skill", fresh)
    assert not again.stored and again.version.version == 1
    assert not import_skill(tmp_path / "dist" / f"{name}.skill", store).stored
    assert SkillStore(store).latest_version(name) == 1


def test_an_exported_folder_imports_identically(store: Path, tmp_path: Path, project: Path) -> None:
    export_version("airline", "claude-code", store_root=store)
    fresh = tmp_path / "fresh-store"
    import_skill(project / ".claude/skills/airline", fresh)
    assert _tree_id(fresh, "airline", 1) == _tree_id(store, "airline", 1)


def test_a_changed_skill_becomes_the_next_version(store: Path, tmp_path: Path, project: Path) -> None:
    export_version("airline", "claude-code", store_root=store)
    folder = project / ".claude/skills/airline"
    shutil.copytree(folder, tmp_path / "edit" / "airline")
    skill_md = tmp_path / "edit" / "airline" / "SKILL.md"
    skill_md.write_text(skill_md.read_text().replace("## Pitfalls", "## Pitfalls\n\nChecked by hand.", 1))
    result = import_skill(tmp_path / "edit" / "airline", store)
    assert result.stored and result.version.version == 2
    # byte for byte, but for the version number it is stored as
    assert stored_files(store, "airline", 2)["SKILL.md"] == stamp_version(skill_md.read_text(), 2).text.encode()
    assert b"version: '1'" in skill_md.read_bytes()  # the input is left as it was
    assert stored_files(store, "airline", 1)["SKILL.md"] != skill_md.read_bytes()  # v1 still in history


def test_an_imported_bundle_names_the_version_it_is_stored_as(store: Path, tmp_path: Path, project: Path) -> None:
    """A bundle of v2 imported into an empty store is its v1, and its SKILL.md says so; everything
    else is byte for byte; importing it again stores nothing (the number aside, it is the same)."""
    skills = SkillStore(store)
    folder = skills.materialize("spotter", None, tmp_path / "edit")
    (folder / "scripts").mkdir(exist_ok=True)
    (folder / "scripts" / "check.sh").write_text("true\n")
    version = skills.commit_version("spotter", skills.latest_version("spotter") + 1, folder, {}, stamp=True).version
    export_version(f"spotter@v{version}", "bundle", store_root=store, dest=tmp_path / "dist")
    bundle = tmp_path / "dist" / "spotter.skill"
    _, files, _ = read_bundle(bundle)
    assert _metadata_version(next(f for f in files if f.path == "SKILL.md").data.decode()) == str(version)
    fresh = tmp_path / "fresh-store"
    result = import_skill(bundle, fresh)
    assert result.stored and result.version.version == 1
    imported = stored_files(fresh, "spotter", 1)
    assert _metadata_version(imported["SKILL.md"].decode()) == "1"  # the store and the file agree
    original = {f.path: f.data for f in files}
    assert imported["SKILL.md"] == stamp_version(original["SKILL.md"].decode(), 1).text.encode()
    del imported["SKILL.md"], original["SKILL.md"]
    assert imported == original
    again = import_skill(bundle, fresh)
    assert not again.stored and again.version.version == 1 and SkillStore(fresh).latest_version("spotter") == 1
    into_source = import_skill(bundle, store)  # its own store holds that content as the latest already
    assert not into_source.stored and into_source.version.version == version


def test_packager_exclusions_are_skipped_on_import(store: Path, tmp_path: Path, project: Path) -> None:
    export_version("spotter", "bundle", store_root=store, dest=tmp_path / "dist")
    bundle = tmp_path / "dist" / "spotter.skill"
    with zipfile.ZipFile(bundle, "a") as archive:
        archive.writestr("spotter/evals/evals.json", "{}")
        archive.writestr("spotter/scripts/__pycache__/x.pyc", b"\0")
        archive.writestr("spotter/.DS_Store", b"\0")
    name, _, skipped = read_bundle(bundle)
    assert name == "spotter" and skipped == [".DS_Store", "evals/evals.json", "scripts/__pycache__/x.pyc"]
    fresh = tmp_path / "fresh-store"
    result = import_skill(bundle, fresh)
    assert result.skipped == skipped
    assert _tree_id(fresh, "spotter", 1) == _tree_id(store, "spotter", 1)


def test_an_invalid_skill_is_not_imported(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "SKILL.md").write_text(
        "---\nname: other\ndescription: <b>bold</b>\n---\n# Demo\n\nSee [x](references/missing.md).\n"
    )
    with pytest.raises(InvalidSkillError, match="is not a valid skill, so it is not imported") as caught:
        import_skill(folder, tmp_path / "skills")
    rules = {v.rule for v in caught.value.report.errors}
    assert {"frontmatter.name-folder", "links.resolve"} <= rules
    assert not (tmp_path / "skills").exists()
    assert tree(folder) == {"SKILL.md": (folder / "SKILL.md").read_bytes()}  # the input is untouched
