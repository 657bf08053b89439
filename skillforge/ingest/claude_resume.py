"""Claude Code conversations that continue in another session file of the same folder.

``claude --continue`` / ``--resume`` (and "clear context and implement the plan") go on with a new
``sessionId``; the first record of the new session links, through ``parentUuid``, to the last
record of the old one. In one file, :mod:`.claude_code` follows that link itself. When the new
session is its own file beside the old one (``~/.claude/projects/<project>/<sessionId>.jsonl``),
this module finds the link across files:

* :func:`prefix_of` — for a file whose conversation starts from a parent that is not in it: the
  records of the sibling file(s) leading to that parent, so the conversation is read whole, from
  its first prompt (not from an orphan tool result);
* :func:`continued_in` — for a file whose conversation goes on in a sibling: that sibling, so the
  conversation is read there, once, and not also here as a truncated copy.

Only the first records of each sibling are read to find links (:data:`LEAD_LINES`), once per
folder per process; a sibling's records are read in full only when it holds a needed parent.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

LEAD_LINES = 50
"""Leading lines of a session file in which a link to another file is looked for (a resumed
session's first message follows at most a few hook ``progress`` and snapshot records)."""

MAX_HOPS = 20
"""Session files followed back from one conversation (a conversation resumed 20 times)."""


def continued_in(path: Path, uuids: set[str]) -> Path | None:
    """The sibling of ``path`` whose conversation starts from one of ``uuids``, or None."""
    for parent, child in _links(path.parent, _listing(path.parent, _mtime(path.parent))).items():
        if parent in uuids and child != path.name:
            return path.parent / child
    return None


def defers(path: Path, later: Path, parent: str | None) -> bool:
    """Whether ``path`` leaves its conversation to ``later`` (found by :func:`continued_in`).

    It does, unless the two files continue each other (their records interleave: ``path``'s
    conversation also starts from ``parent``, a record of ``later``): then the file with the later
    name reads the conversation, with the other's records before ``parent`` as its prefix, so it is
    read once and never by neither.
    """
    if parent is None or _holder(path.parent, parent, {path.name}) != later:
        return True
    return path.name < later.name


def prefix_of(path: Path, parent: str) -> tuple[list[tuple[int, dict[str, Any]]], list[Path]]:
    """The records (line number, record) leading to ``parent`` in the sibling files of ``path``,
    oldest file first, and those files; empty when no sibling holds ``parent``.

    Raises:
        OSError: when a sibling cannot be read.
    """
    records: list[tuple[int, dict[str, Any]]] = []
    files: list[Path] = []
    wanted: str | None = parent
    seen = {path.name}
    while wanted is not None and len(files) < MAX_HOPS:
        found = _holder(path.parent, wanted, seen)
        if found is None:
            break
        lines = _read_until(found, wanted)
        records = lines + records
        files.insert(0, found)
        seen.add(found.name)
        wanted = _external_parent(lines)
    return records, files


def _holder(folder: Path, uuid: str, skip: set[str]) -> Path | None:
    needle = uuid.encode()
    for name, _, _ in _listing(folder, _mtime(folder)):
        if name in skip:
            continue
        candidate = folder / name
        try:
            with open(candidate, "rb") as handle:
                for line in handle:
                    if needle in line and b'"uuid"' in line and _uuid(line) == uuid:
                        return candidate
        except OSError:
            continue
    return None


def _read_until(path: Path, uuid: str) -> list[tuple[int, dict[str, Any]]]:
    out: list[tuple[int, dict[str, Any]]] = []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            record = _record(line)
            if record is None:
                continue
            out.append((number, record))
            if record.get("uuid") == uuid:
                break
    return out


def _external_parent(lines: list[tuple[int, dict[str, Any]]]) -> str | None:
    """The parent of the first record whose parent is not among the records before it."""
    known: set[str] = set()
    for _, record in lines:
        parent = record.get("parentUuid") or record.get("logicalParentUuid")
        if isinstance(parent, str) and parent not in known:
            return parent
        if isinstance(record.get("uuid"), str):
            known.add(record["uuid"])
    return None


def _mtime(folder: Path) -> int:
    try:
        return folder.stat().st_mtime_ns
    except OSError:
        return 0


@lru_cache(maxsize=32)
def _listing(folder: Path, mtime: int) -> tuple[tuple[str, int, int], ...]:
    """The session files of ``folder`` (name, size, mtime), listed once per folder change."""
    try:
        entries = sorted(p for p in folder.iterdir() if p.suffix == ".jsonl" and p.is_file())
    except OSError:
        return ()
    out = []
    for entry in entries:
        try:
            stat = entry.stat()
        except OSError:
            continue
        out.append((entry.name, stat.st_size, stat.st_mtime_ns))
    return tuple(out)


@lru_cache(maxsize=32)
def _links(folder: Path, listing: tuple[tuple[str, int, int], ...]) -> dict[str, str]:
    """Parent uuid → name of the sibling whose conversation starts from it (outside that file)."""
    links: dict[str, str] = {}
    for name, _, _ in listing:
        lines: list[tuple[int, dict[str, Any]]] = []
        try:
            with open(folder / name, "rb") as handle:
                for number, line in enumerate(handle, start=1):
                    if number > LEAD_LINES:
                        break
                    record = _record(line)
                    if record is not None:
                        lines.append((number, record))
        except OSError:
            continue
        parent = _external_parent(lines)
        if parent is not None and not any(r.get("agentId") or r.get("isSidechain") for _, r in lines):
            links[parent] = name
    return links


def _record(line: bytes) -> dict[str, Any] | None:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def _uuid(line: bytes) -> str | None:
    record = _record(line)
    return record.get("uuid") if record is not None else None
