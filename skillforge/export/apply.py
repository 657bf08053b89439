"""Turn a host's plan into actions on disk, the same way for every host.

Rules (issue 7): never overwrite a file skillforge did not write, or one edited since it wrote
it, unless ``force``; change nothing when the content is the same (idempotent); say what would
happen without writing (``dry_run``); keep every write inside the destination root
(:func:`skillforge.export.paths.safe_target`). Files an earlier export of the same skill wrote
into the skill's folder and the new plan no longer has are removed, when untouched since.
Writes are atomic per file (a temporary file renamed into place).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from skillforge.errors import SkillforgeError
from skillforge.export.block import find_block
from skillforge.export.host import Output, Plan
from skillforge.export.manifest import Manifest
from skillforge.export.paths import safe_target
from skillforge.export.writable import cannot_write
from skillforge.fsutil import write_atomic

ActionKind = Literal["create", "update", "unchanged", "overwrite", "conflict", "remove", "keep"]


@dataclass
class Action:
    """What happens (or would happen) to one path.

    Attributes:
        path: relative to the destination root (POSIX).
        kind: ``create`` / ``update`` (a file or block skillforge owns) / ``unchanged`` /
            ``overwrite`` (not skillforge's, replaced because of ``--force``) / ``conflict``
            (not skillforge's or edited since: left alone) / ``remove`` (no longer in the skill)
            / ``keep`` (no longer in the skill, but edited since: left alone).
        reason: why, in words, for ``overwrite``, ``conflict`` and ``keep``.
        output: the planned output (None for ``remove`` and ``keep``).
    """

    path: str
    kind: ActionKind
    reason: str = ""
    output: Output | None = None


def read_existing(root: Path, relative: str) -> bytes | None:
    """The bytes now at ``root/relative`` (checked with :func:`safe_target`), None when absent.

    Raises:
        SkillforgeError: unsafe path, or something that is not a file is in the way.
    """
    target = safe_target(root, relative)
    if not target.exists():
        return None
    if not target.is_file():
        raise SkillforgeError(f"{target}: exists and is not a file; refusing to replace it")
    return target.read_bytes()


def decide(root: Path, plan: Plan, manifest: Manifest, skill: str, force: bool) -> list[Action]:
    """The action for every planned output and every stale file of ``skill``.

    Args:
        root: destination root.
        plan: the host's plan.
        manifest: the root's manifest.
        skill: skill name (whose earlier files may be stale).
        force: replace files skillforge does not own.

    Raises:
        SkillforgeError: an unsafe path, or a non-file in the way.
    """
    actions = []
    planned = {o.path for o in plan.outputs}
    for output in plan.outputs:
        current = read_existing(root, output.path)
        actions.append(_decide_one(output, current, manifest, force))
    if plan.folder is not None:
        prefix = plan.folder.rstrip("/") + "/"
        for path, entry in sorted(manifest.files.items()):
            if entry.get("skill") != skill or not path.startswith(prefix) or path in planned:
                continue
            current = read_existing(root, path)
            if current is None:
                manifest.forget(path)
            elif manifest.owns(path, current):
                actions.append(Action(path, "remove"))
            else:
                actions.append(Action(path, "keep", "no longer in the skill, but edited since skillforge wrote it"))
    return actions


def _decide_one(output: Output, current: bytes | None, manifest: Manifest, force: bool) -> Action:
    if current is None:
        return Action(output.path, "create", output=output)
    if current == output.data:
        return Action(output.path, "unchanged", output=output)
    if output.block is not None:
        span = find_block(current.decode("utf-8", errors="replace"), output.block, output.path)
        if span is None or not span.edited:
            return Action(output.path, "update", output=output)
        reason = f"the {output.block} block was edited by hand since skillforge wrote it"
    elif manifest.owns(output.path, current):
        return Action(output.path, "update", output=output)
    elif output.path in manifest.files:
        reason = "edited since skillforge wrote it"
    else:
        reason = "not written by skillforge"
    return Action(output.path, "overwrite" if force else "conflict", reason, output)


def foreign_files(root: Path, plan: Plan, manifest: Manifest) -> list[str]:
    """Files in the plan's skill folder that skillforge neither plans nor wrote (left alone)."""
    if plan.folder is None:
        return []
    folder = safe_target(root, plan.folder)
    if not folder.is_dir():
        return []
    planned = {o.path for o in plan.outputs}
    found = []
    for current, _, names in os.walk(folder):
        for name in names:
            relative = (Path(current) / name).relative_to(root).as_posix()
            if relative not in planned and relative not in manifest.files:
                found.append(relative)
    return sorted(found)


def write(
    root: Path,
    actions: list[Action],
    manifest: Manifest,
    skill: str,
    version: int | None,
    host: str,
    save_manifest: bool = True,
) -> None:
    """Carry out ``actions`` (conflicts and keeps are skipped) and save the manifest (unless
    ``save_manifest`` is False: a bundle's destination gets no manifest).

    The manifest is saved even when a write fails half way, so it lists what was written.

    Raises:
        SkillforgeError: a file could not be written or removed, or the manifest could not be
            saved (``cannot write PATH: reason``; the first failure is the one reported).
    """
    try:
        _carry_out(root, actions, manifest, skill, version, host)
    except BaseException as failure:
        if save_manifest:
            with contextlib.suppress(OSError):  # the first failure is the one to report
                manifest.save()
        if isinstance(failure, OSError):
            raise cannot_write(failure, root) from failure
        raise
    if save_manifest:
        try:
            manifest.save()
        except OSError as failure:
            raise cannot_write(failure, manifest.path) from failure


def _carry_out(
    root: Path, actions: list[Action], manifest: Manifest, skill: str, version: int | None, host: str
) -> None:
    for action in actions:
        target = safe_target(root, action.path)
        if action.kind == "remove":
            _remove(root, target)
            manifest.forget(action.path)
            continue
        output = action.output
        if output is None or action.kind in ("conflict", "keep"):
            continue
        if action.kind != "unchanged":
            write_atomic(target, output.data, mode=0o755 if output.executable else 0o644)
        if output.block is not None:
            span = find_block(output.data.decode("utf-8"), output.block, output.path)
            assert span is not None
            manifest.record_block(output.path, span.recorded, skill, version, host)
        else:
            manifest.record(output.path, output.data, skill, version, host)


def _remove(root: Path, target: Path) -> None:
    """Remove ``target``, then its parent folders that became empty (never ``root`` itself)."""
    target.unlink()
    parent = target.parent
    stop = Path(os.path.realpath(root))
    while Path(os.path.realpath(parent)) != stop and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent
