"""Read-only places for ``export`` (every kind of host) and ``import``: one ``error:`` line naming the
path, no traceback, nothing half written; and a bundle's destination holds the ``.skill`` file only.

The folders are made unwritable for real (``make_unwritable`` in tests/conftest.py: ``chmod 555``,
or ``chattr +i`` when the tests run as root, who ignores permissions)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from skillforge.errors import SkillforgeError
from skillforge.export.exporter import export_version
from skillforge.export.importer import import_skill
from skillforge.export.manifest import MANIFEST_PATH
from skillforge.store.git_store import SkillStore
from tests.export.conftest import add_version, tree, without_references

ONE_OF_EACH_KIND = ["claude-code", "cursor-rules", "agents-md", "bundle"]
"""A host of each kind: skill folder, rule file, managed block, bundle."""


def run(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": str(home), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "skillforge.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _one_error_line(result: subprocess.CompletedProcess, path: Path) -> str:
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(path) in lines[0], result.stderr
    return lines[0]


@pytest.mark.parametrize("host", ONE_OF_EACH_KIND)
def test_an_unwritable_destination_is_one_line_and_nothing_is_written(
    host: str, store: Path, project: Path, tmp_path: Path, make_unwritable
) -> None:
    dest = tmp_path / "readonly"
    make_unwritable(dest)
    with pytest.raises(SkillforgeError, match=f"^cannot write {dest}: "):
        export_version("airline", host, store_root=store, dest=dest)
    assert tree(dest) == {}
    with pytest.raises(SkillforgeError, match=f"^cannot write {dest}: "):  # a folder to create inside it
        export_version("airline", host, store_root=store, dest=dest / "sub" / "dir")
    # a dry run writes nothing, so it still says what it would do
    assert export_version("airline", host, store_root=store, dest=dest, dry_run=True).actions


@pytest.mark.parametrize("host", ONE_OF_EACH_KIND)
def test_the_command_prints_one_error_line(
    host: str, store: Path, project: Path, home: Path, tmp_path: Path, make_unwritable
) -> None:
    dest = tmp_path / "readonly"
    make_unwritable(dest)
    line = _one_error_line(
        run("export", "airline", "--to", host, "--store", str(store), "--dest", str(dest), cwd=project, home=home), dest
    )
    assert line.startswith(f"error: cannot write {dest}: ")


def test_an_unwritable_manifest_folder_stops_the_export_before_any_file(
    store: Path, project: Path, make_unwritable
) -> None:
    make_unwritable(project / ".skillforge")
    with pytest.raises(SkillforgeError, match=f"^cannot write {project / '.skillforge'}: "):
        export_version("airline", "claude-code", store_root=store)
    assert tree(project) == {}  # not even the skill's files: the manifest could not have listed them


def test_a_folder_that_fails_half_way_is_named_and_the_manifest_lists_what_was_written(
    store: Path, project: Path, make_unwritable
) -> None:
    export_version("airline", "claude-code", store_root=store)
    add_version(store, "airline", without_references)  # v2 removes references/evidence.md
    make_unwritable(project / ".claude" / "skills" / "airline" / "references")
    with pytest.raises(SkillforgeError, match="^cannot write .*references/evidence.md: "):
        export_version("airline", "claude-code", store_root=store)
    assert "references/evidence.md" in (project / MANIFEST_PATH).read_text()  # still its own, to remove next time


def test_an_unwritable_home_for_a_user_scope_export(store: Path, project: Path, home: Path, make_unwritable) -> None:
    make_unwritable(home)
    line = _one_error_line(
        run("export", "airline", "--to", "claude-md", "--scope", "user", "--store", str(store), cwd=project, home=home),
        home,
    )
    assert line.startswith(f"error: cannot write {home}: ")


def test_import_into_an_unwritable_store_is_one_line(
    store: Path, project: Path, home: Path, tmp_path: Path, make_unwritable
) -> None:
    export_version("spotter", "bundle", store_root=store, dest=tmp_path / "dist")
    bundle = tmp_path / "dist" / "spotter.skill"
    readonly = tmp_path / "readonly"
    make_unwritable(readonly)
    with pytest.raises(SkillforgeError, match=f"^cannot write {readonly}: "):
        import_skill(bundle, readonly / "skills")  # a store to create there
    line = _one_error_line(run("import", str(bundle), "--store", str(readonly), cwd=project, home=home), readonly)
    assert line.startswith(f"error: cannot write {readonly}: ")
    assert tree(readonly) == {}


def test_import_into_a_store_whose_history_cannot_grow(
    store: Path, project: Path, home: Path, tmp_path: Path, make_unwritable
) -> None:
    export_version("spotter", "bundle", store_root=store, dest=tmp_path / "dist")
    bundle = tmp_path / "dist" / "spotter.skill"
    fresh = tmp_path / "fresh"
    import_skill(bundle, fresh)
    edited = tmp_path / "edited" / "spotter"
    SkillStore(fresh).materialize("spotter", None, tmp_path / "edited")
    (edited / "SKILL.md").write_text((edited / "SKILL.md").read_text() + "\nChecked by hand.\n")
    objects = fresh / ".git" / "objects"
    for folder in [objects, *(p for p in objects.iterdir() if p.is_dir())]:  # git itself fails to write
        make_unwritable(folder)
    line = _one_error_line(run("import", str(edited), "--store", str(fresh), cwd=project, home=home), fresh)
    assert line.startswith(f"error: cannot write the skill store {fresh}: ")
    make_unwritable(fresh / ".git")  # found before anything is touched
    line = _one_error_line(run("import", str(edited), "--store", str(fresh), cwd=project, home=home), fresh / ".git")
    assert line.startswith(f"error: cannot write {fresh / '.git'}: ")
    assert SkillStore(fresh).latest_version("spotter") == 1


def test_a_bundle_export_leaves_only_the_bundle_and_replaces_an_earlier_one(
    store: Path, project: Path, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    first = export_version("airline", "bundle", store_root=store, dest=dist)
    assert set(tree(dist)) == {"airline.skill"} and [a.kind for a in first.actions] == ["create"]
    assert [a.kind for a in export_version("airline", "bundle", store_root=store, dest=dist).actions] == ["unchanged"]
    add_version(store, "airline", without_references)
    second = export_version("airline", "bundle", store_root=store, dest=dist)
    assert [a.kind for a in second.actions] == ["update"] and set(tree(dist)) == {"airline.skill"}
    with zipfile.ZipFile(dist / "airline.skill") as archive:
        assert "airline/references/evidence.md" not in archive.namelist()  # the new version's bundle
    (dist / "airline.skill").write_bytes(b"my own file")  # not a bundle of airline: never replaced silently
    with pytest.raises(SkillforgeError, match=r"nothing exported: airline.skill \(not written by skillforge\)"):
        export_version("airline", "bundle", store_root=store, dest=dist)
    assert (dist / "airline.skill").read_bytes() == b"my own file" and set(tree(dist)) == {"airline.skill"}
