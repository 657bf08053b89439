"""Sniffing: what the first bytes of a file look like, for the formats' ``detect()`` functions."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

HEAD_BYTES = 64 * 1024
"""How many leading bytes of a file ``detect()`` gets to look at."""


class Sniff:
    """What the first bytes of a file look like, for ``detect()`` functions.

    Attributes:
        kind: ``"object"`` (one JSON object), ``"array"`` (a JSON array), ``"jsonl"`` (several
            JSON objects, one per line) or None (not JSON). A JSONL file whose first line is longer
            than the head looks like ``"object"``: JSONL formats accept both.
        keys: top-level keys of the object (for ``jsonl``: of the first line), in file order, as far
            as the head reaches.
        values: scalar values at depth ≤ 3 by dotted path (``"info.exit_status"``,
            ``"item.role"`` for an array's items), first occurrence only.
        records: for ``jsonl``, the complete leading lines (at most 5), parsed.

    ``keys`` and ``values`` of an ``object`` or ``array`` come from walking the head's JSON events,
    which costs more than everything else detection does: they are worked out on first use, so a
    detector that looks only at ``kind`` (or at ``records``) never pays for them.
    """

    def __init__(self, kind: str | None, records: list[dict[str, Any]] | None = None, head: bytes = b"") -> None:
        self.kind = kind
        self.records = records or []
        self._head = head
        self._shape: tuple[list[str], dict[str, Any]] | None = None

    @property
    def keys(self) -> list[str]:
        """Top-level keys (see the class docstring)."""
        return self._walk()[0]

    @property
    def values(self) -> dict[str, Any]:
        """Scalar values by dotted path (see the class docstring)."""
        return self._walk()[1]

    def has(self, *keys: str) -> bool:
        """True when every key is a top-level key."""
        return all(key in self.keys for key in keys)

    def item_keys(self) -> set[str]:
        """Keys seen on the items of a top-level array."""
        return {path.split(".")[1] for path in self.values if path.startswith("item.") and path.count(".") >= 1}

    def _walk(self) -> tuple[list[str], dict[str, Any]]:
        if self._shape is None:
            if self.kind == "jsonl":
                self._shape = (list(self.records[0]), {})
            elif self.kind is None:
                self._shape = ([], {})
            else:
                self._shape = _head_shape(self._head, self.kind, self.records)
        return self._shape


def mentions(head: bytes, *names: str) -> bool:
    """True when one of ``names`` appears in ``head`` as a quoted JSON string (``"name"``).

    A necessary condition, cheap to test, for a name to be among a head's keys: detectors ask it
    before they read :attr:`Sniff.keys` or :attr:`Sniff.values`, whose walk of the head's JSON
    events costs far more. (A key spelled with ``\\u`` escapes would not be mentioned; no log
    writer does that.)
    """
    return any(b'"%s"' % name.encode() in head for name in names)


@lru_cache(maxsize=4)
def sniff(head: bytes) -> Sniff:
    """Look at ``head`` (the first bytes of a file) without parsing the whole file.

    Parses with ijson's event parser until the head runs out, so keys and values that sit within
    :data:`HEAD_BYTES` are found even when the document is much larger.
    """
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] not in (b"{", b"["):
        return Sniff(None)
    records = head_json_lines(stripped)
    if records and (len(records) >= 2 or stripped.split(b"\n", 1)[-1].strip()):
        return Sniff("jsonl", records)
    return Sniff("array" if stripped[:1] == b"[" else "object", records, stripped)


def _head_shape(stripped: bytes, kind: str, records: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    """Top-level keys and shallow scalar values of a (possibly cut) JSON document, by its events."""
    keys: list[str] = []
    values: dict[str, Any] = {}
    import io

    import ijson

    try:
        for prefix, event, value in ijson.parse(io.BytesIO(stripped), use_float=True):
            if event == "map_key":
                if not prefix:
                    keys.append(value)
                elif prefix.count(".") <= 1:
                    values.setdefault(f"{prefix}.{value}", None)
            elif event in ("string", "number", "boolean") and values.get(prefix) is None and prefix.count(".") <= 2:
                values[prefix] = value
    except Exception:  # the head ends mid-document (or is not JSON after all): keep what was seen
        pass
    if kind == "object" and len(records) == 1 and not keys:
        keys = list(records[0])
    return keys, values


@lru_cache(maxsize=4)
def head_json_lines(head: bytes, limit: int = 5) -> list[dict[str, Any]]:
    """Parse up to ``limit`` complete leading JSON-object lines of ``head``; stop at the first that fails.

    The result is shared between callers (the detectors of one file): do not change it.
    """
    records: list[dict[str, Any]] = []
    start = 0
    while (end := head.find(b"\n", start)) != -1:  # a last line without its newline may be cut: never read
        raw = head[start:end].strip()
        start = end + 1
        if not raw:
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            break
        if not isinstance(record, dict):
            break
        records.append(record)
        if len(records) >= limit:
            break
    return records
