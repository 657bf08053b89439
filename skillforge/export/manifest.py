"""The export manifest: what skillforge wrote under one destination root.

Kept at ``<root>/.skillforge/exports.json`` (the project folder, the home folder for user-scope
exports, or ``--dest``). It is how an export knows which existing files are its own: a file is
replaced only when it is listed here *and* still has the digest skillforge wrote; anything else
is left alone unless ``--force``. Shape::

    {"format": 1,
     "files":  {"<path relative to root>": {"sha256": "…", "skill": "…", "version": 3, "host": "…"}},
     "blocks": {"AGENTS.md": {"<skill>": {"digest": "…", "version": 3, "host": "…"}}}}

A block's ``digest`` is the one in its begin marker (see :mod:`skillforge.export.block`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillforge.errors import SkillforgeError
from skillforge.fsutil import write_atomic

MANIFEST_PATH = ".skillforge/exports.json"
FORMAT = 1


def sha256(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass
class Manifest:
    """The manifest of one destination root (see the module docstring for the JSON shape)."""

    root: Path
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    blocks: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.root / MANIFEST_PATH

    @classmethod
    def load(cls, root: Path) -> Manifest:
        """Read the manifest under ``root``; an empty one when there is none.

        Raises:
            SkillforgeError: the file exists but is not a manifest (the message says how to recover).
        """
        manifest = cls(root)
        try:
            raw = json.loads(manifest.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return manifest
        except (OSError, ValueError) as exc:
            raise SkillforgeError(
                f"{manifest.path}: unreadable export manifest ({exc}); delete it to start over "
                "(skillforge then treats every existing file as not its own)"
            ) from exc
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise SkillforgeError(f"{manifest.path}: not an export manifest of format {FORMAT}; delete it to start over")
        manifest.files = dict(raw.get("files") or {})
        manifest.blocks = {k: dict(v) for k, v in (raw.get("blocks") or {}).items()}
        return manifest

    def owns(self, relative: str, data: bytes) -> bool:
        """True when skillforge wrote ``relative`` and it still holds exactly that (``data``)."""
        entry = self.files.get(relative)
        return entry is not None and entry.get("sha256") == sha256(data)

    def record(self, relative: str, data: bytes, skill: str, version: int | None, host: str) -> None:
        """Note that ``data`` was written to ``relative``."""
        self.files[relative] = {"sha256": sha256(data), "skill": skill, "version": version, "host": host}

    def record_block(self, relative: str, digest: str, skill: str, version: int | None, host: str) -> None:
        """Note that the block of ``skill`` in the shared file ``relative`` now has ``digest``."""
        self.blocks.setdefault(relative, {})[skill] = {"digest": digest, "version": version, "host": host}

    def forget(self, relative: str) -> None:
        """Drop ``relative`` (a file skillforge removed)."""
        self.files.pop(relative, None)

    def save(self) -> None:
        """Write the manifest atomically (a temporary file renamed over the old one); an
        unchanged manifest is not rewritten."""
        data = json.dumps({"format": FORMAT, "files": self.files, "blocks": self.blocks}, indent=2, sort_keys=True) + "\n"
        try:
            if self.path.read_text(encoding="utf-8") == data:
                return
        except OSError:
            pass
        write_atomic(self.path, data)
