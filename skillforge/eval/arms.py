"""The arms of an A/B replay and how each is exported to the folder its trials read (``{skills}``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from skillforge.errors import SkillforgeError
from skillforge.export.apply import decide, write
from skillforge.export.host import ExportOptions, base_path
from skillforge.export.manifest import Manifest
from skillforge.export.registry import get_host
from skillforge.export.source import load_source
from skillforge.export.validity import require_valid

DEFAULT_HOST = "claude-code"


@dataclass(frozen=True)
class Arm:
    """One arm of the replay: a label and the skill folder it exports (None: no skill)."""

    label: str
    folder: Path | None = None


def export_arm(arm: Arm, host_name: str, root: Path) -> Path:
    """Export ``arm``'s skill under ``root`` as ``host_name`` lays it out; return the skills folder.

    The skill folder is validated first (an invalid skill is never exported), then read
    (:func:`skillforge.export.source.load_source`), planned by the host and written by
    :func:`skillforge.export.apply.write`, as ``skillforge export`` does. The no-skill arm gets the
    same folder, empty.

    Raises:
        SkillforgeError: unknown host, a host that has no skills folder, or a skill that is not valid.
    """
    host = get_host(host_name)
    pattern = base_path(host, "project")
    if "<name>" not in pattern:
        raise SkillforgeError(
            f"host {host_name} has no skills folder to pass as {{skills}}; "
            f"use a skill-folder host such as {DEFAULT_HOST}"
        )
    skills = root / pattern.split("<name>")[0]
    skills.mkdir(parents=True, exist_ok=True)
    if arm.folder is None:
        return skills
    require_valid(arm.folder, f"{arm.label} of {arm.folder.name}", "evaluated")
    source = load_source(arm.folder)
    plan = host.plan(source, "project", ExportOptions(), lambda relative: None)
    manifest = Manifest.load(root)
    write(root, decide(root, plan, manifest, source.name, False), manifest, source.name, None, host.name)
    return skills


def arm_digest(arm: Arm) -> str:
    """sha256 (16 hex) of the arm's files (paths and bytes), or ``none``: results stay with their content."""
    if arm.folder is None:
        return "none"
    digest = hashlib.sha256()
    for path in sorted(p for p in arm.folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(arm.folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
