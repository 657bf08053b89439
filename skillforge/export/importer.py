"""``skillforge import``: bring a skill (a ``.skill`` bundle or a skill folder) into the store.

The files are read safely (bundles: :func:`skillforge.export.bundle.read_bundle`; folders:
:func:`skillforge.export.source.read_files`), staged, validated, and stored as the next version,
byte for byte except for SKILL.md's ``metadata.version``, which is set to the number the version
is stored as (the tag ``<name>/v<N>``), so the store and the file agree: a bundle exported from
v3 of one store and imported into another as v1 says version 1 there. Importing content identical
to the latest stored version (the version number aside) stores nothing.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import git

from skillforge.errors import SkillforgeError
from skillforge.export.bundle import read_bundle
from skillforge.export.paths import check_name, safe_target
from skillforge.export.source import SkillFile, materialize, read_files
from skillforge.export.validity import require_valid
from skillforge.export.writable import check_writable, writing
from skillforge.store.compare import same_skill
from skillforge.store.git_store import SkillStore
from skillforge.store.version_info import VersionInfo


@dataclass
class ImportResult:
    """What an import did.

    Attributes:
        name: skill name.
        version: the stored version (the existing one when nothing changed).
        stored: False when the content equals the latest stored version (nothing stored).
        skipped: paths left out by the packager's exclusion rules (``evals/``, caches).
    """

    name: str
    version: VersionInfo
    stored: bool
    skipped: list[str] = field(default_factory=list)


def read_skill(path: Path) -> tuple[str, list[SkillFile], list[str]]:
    """Read a bundle or a skill folder into (name, files, skipped paths).

    Raises:
        SkillforgeError: missing path, a folder without SKILL.md or with an invalid name, unsafe
            content (see :func:`read_bundle` and :func:`read_files`).
    """
    if path.is_dir():
        if not (path / "SKILL.md").is_file():
            raise SkillforgeError(f"{path}: not a skill folder (no SKILL.md)")
        name = check_name(Path(os.path.realpath(path)).name)
        files, skipped = read_files(path)
        return name, files, skipped
    if path.is_file():
        return read_bundle(path)
    raise SkillforgeError(f"{path}: no such file or folder")


def _stage(folder: Path, files: list[SkillFile]) -> None:
    for file in files:
        target = safe_target(folder, file.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file.data)
        os.chmod(target, file.mode)


def import_skill(path: Path, store_root: Path = Path("skills")) -> ImportResult:
    """Import the skill at ``path`` (``.skill`` zip or folder) as a new version in the store.

    Args:
        path: a ``.skill`` bundle or a skill folder.
        store_root: the skill store.

    Returns:
        An :class:`ImportResult`.

    Raises:
        SkillforgeError: unreadable or unsafe input (nothing is stored); a store that cannot be
            written (``cannot write PATH: reason``).
        skillforge.export.validity.InvalidSkillError: the skill does not pass the validator (nothing is stored).
    """
    path = Path(path)
    name, files, skipped = read_skill(path)
    store = SkillStore(store_root)
    with tempfile.TemporaryDirectory(prefix="skillforge-import-") as scratch:
        staged = Path(scratch) / "incoming" / name
        staged.mkdir(parents=True)
        _stage(staged, files)
        require_valid(staged, str(path), "imported")
        latest = store.latest_version(name)
        if latest:
            if same_skill(staged, materialize(store, name, latest, Path(scratch) / "latest")):  # but the number
                return ImportResult(name, store.version(name, latest), stored=False, skipped=skipped)
        info = {"inputs": [str(path)], "analyst": "import", "files": len(files)}
        location = store.location
        for folder in (location.root, location.git_dir):  # a read-only store: one line, nothing touched
            check_writable(folder)
        try:
            with writing(location.root):
                version = store.commit_version(name, latest + 1, staged, info, stamp=True)
        except git.GitCommandError as error:  # git could not write its objects or refs
            lines = (error.stderr or "").strip().removeprefix("stderr: ").strip("'").splitlines()
            reason = lines[-1] if lines else str(error)
            raise SkillforgeError(f"cannot write the skill store {location.root}: {reason}") from error
    return ImportResult(name, version, stored=True, skipped=skipped)
