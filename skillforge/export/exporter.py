"""``skillforge export``: lay a stored, validated version out where one host loads it.

Steps: read the version from the store (``git archive``, the store's working copy is not
touched), validate it (an invalid version is never exported), read it safely
(:mod:`skillforge.export.source`), let the host plan its outputs, decide each file's action
against the destination's manifest, and write (unless ``dry_run``).
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from skillforge.errors import SkillforgeError
from skillforge.export.apply import Action, decide, foreign_files, read_existing, write
from skillforge.export.bundle import read_bundle
from skillforge.export.host import SCOPES, ExportOptions, Plan, Scope, base_path
from skillforge.export.manifest import MANIFEST_PATH, Manifest
from skillforge.export.paths import check_name, safe_target
from skillforge.export.registry import get_host
from skillforge.export.source import load_source, materialize
from skillforge.export.validity import require_valid
from skillforge.export.writable import check_writable, writing
from skillforge.store.git_store import SkillStore

_REF = re.compile(r"^(?P<name>[^@]+)(?:@v?(?P<version>\d+))?$")


@dataclass
class ExportResult:
    """What an export did (or, with ``dry_run``, would do).

    Attributes:
        name: skill name.
        version: the version exported.
        host: host name.
        scope: ``project`` or ``user``.
        root: the destination root the paths are relative to.
        actions: one per path, in plan order (see :class:`skillforge.export.apply.Action`).
        warnings: what was cut or left out, and files in the skill's folder not written by
            skillforge (left alone).
        dry_run: nothing was written.
    """

    name: str
    version: int
    host: str
    scope: Scope
    root: Path
    actions: list[Action] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def conflicts(self) -> list[Action]:
        return [a for a in self.actions if a.kind == "conflict"]


def parse_ref(ref: str) -> tuple[str, int | None]:
    """Split ``NAME[@vN]`` (``airline``, ``airline@v3``, ``airline@3``) into (name, version or None).

    Raises:
        SkillforgeError: malformed reference or invalid skill name.
    """
    match = _REF.match(ref.strip())
    if not match:
        raise SkillforgeError(f"{ref!r}: expected NAME or NAME@vN")
    version = match.group("version")
    return check_name(match.group("name")), int(version) if version else None


def default_root(scope: Scope) -> Path:
    """The folder paths are relative to: the current folder (project) or ``$HOME`` (user).

    ``$HOME`` is read from the environment each time, so a test (or a user) can point it elsewhere.
    """
    return Path.cwd() if scope == "project" else Path(os.path.expanduser("~"))


def export_version(
    ref: str,
    host_name: str,
    *,
    store_root: Path = Path("skills"),
    scope: Scope = "project",
    dest: Path | None = None,
    dry_run: bool = False,
    force: bool = False,
    options: ExportOptions = ExportOptions(),
) -> ExportResult:
    """Export one stored version of a skill to one host.

    Args:
        ref: ``NAME`` (latest version) or ``NAME@vN``.
        host_name: a key of :data:`skillforge.export.registry.HOSTS`.
        store_root: the skill store.
        scope: ``project`` (paths under the current folder) or ``user`` (under ``$HOME``).
        dest: the folder to use instead of the current folder / ``$HOME`` (for ``bundle``: where
            ``<name>.skill`` goes).
        dry_run: decide, but write nothing.
        force: overwrite files skillforge did not write (or that were edited since).
        options: ``--globs`` for translated hosts.

    Returns:
        An :class:`ExportResult`.

    A bundle's destination gets nothing but ``<name>.skill`` (no export manifest): an earlier
    bundle of the same skill there is replaced, any other file in the way is a conflict.

    Raises:
        SkillforgeError: unknown host or scope, unknown skill or version, unsafe paths (a
            symbolic link pointing out of the skill or the destination), a destination file in
            the way (without ``force``; nothing is written then), a destination that cannot be
            written (``cannot write PATH: reason``; nothing is written when that is known first).
        skillforge.export.validity.InvalidSkillError: the version does not pass the validator.
    """
    host = get_host(host_name)
    if scope not in SCOPES:
        raise SkillforgeError(f"unknown scope {scope!r}; use project or user")
    base_path(host, scope)
    name, version = parse_ref(ref)
    store = SkillStore(store_root)
    info = store.version(name, version)
    root = Path(dest) if dest is not None else default_root(scope)
    with tempfile.TemporaryDirectory(prefix="skillforge-export-") as scratch:
        folder = materialize(store, name, info.version, Path(scratch))
        require_valid(folder, f"{name} v{info.version}", "exported")
        skill = load_source(folder, info.version, datetime.fromisoformat(info.date))
    plan = host.plan(skill, scope, options, lambda relative: read_existing(root, relative))
    bundle = host.kind == "bundle"  # --dest gets the .skill file and nothing else: no manifest there
    manifest = _earlier_bundles(root, plan, name, host.name) if bundle else Manifest.load(root)
    result = ExportResult(
        name,
        info.version,
        host.name,
        scope,
        root,
        decide(root, plan, manifest, name, force),
        list(plan.warnings),
        dry_run,
    )
    result.warnings += [f"{path} left alone: not written by skillforge" for path in foreign_files(root, plan, manifest)]
    result.warnings += [f"{a.path} left alone: {a.reason}" for a in result.actions if a.kind == "keep"]
    if dry_run:
        return result
    if result.conflicts:
        listed = ", ".join(f"{a.path} ({a.reason})" for a in result.conflicts[:5])
        more = f" and {len(result.conflicts) - 5} more" if len(result.conflicts) > 5 else ""
        raise SkillforgeError(
            f"nothing exported: {listed}{more} would be overwritten; check them, then use --force to replace them"
        )
    check_writable(root if bundle else (root / MANIFEST_PATH).parent)  # a read-only place: one line, nothing written
    with writing(root):
        root.mkdir(parents=True, exist_ok=True)
        write(root, result.actions, manifest, name, info.version, host.name, save_manifest=not bundle)
    return result


def _earlier_bundles(root: Path, plan: Plan, name: str, host: str) -> Manifest:
    """An in-memory manifest (never saved) that owns a ``.skill`` file already at a planned path when
    it is a bundle of the same skill (an earlier export, replaced by this one); anything else there
    stays a conflict."""
    manifest = Manifest(root)
    for output in plan.outputs:
        existing = read_existing(root, output.path)
        if existing is None:
            continue
        try:
            held, _, _ = read_bundle(safe_target(root, output.path))
        except SkillforgeError:
            continue
        if held == name:
            manifest.record(output.path, existing, name, None, host)
    return manifest
