"""Sniffing: what the first bytes of a file look like, for the formats' ``detect()`` functions.

Detection runs in two rounds (:func:`skillforge.ingest.reader.detect`): first every format looks
at the head alone; when none claims a file whose head ends inside a JSON document, the formats are
asked again inside :func:`streaming`, where :func:`sniff` answers key questions from the whole
file (parsed whole up to :data:`WHOLE_FILE_BYTES`, else read on key by key:
:class:`~skillforge.ingest.toplevel.StreamedShape`) and :func:`mentions` no longer rules a name
out for being absent from the head. A detector therefore never depends on where a key
sits, only on the keys a document has.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from skillforge.ingest.toplevel import MAX_ITEMS, MAX_TOP_KEYS, StreamedShape

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

    ``keys`` and ``values`` of an ``object`` or ``array`` come from the head's JSON: parsed whole
    when the head holds the whole document, else walked event by event (ijson), and only as far
    as a question needs (:class:`~skillforge.ingest.toplevel.StreamedShape` over the head's bytes:
    a key near the start is found without walking the rest). That walk costs more than everything
    else detection does, so it starts on first use: a detector that looks only at ``kind`` (or at
    ``records``) never pays for it.
    """

    def __init__(
        self,
        kind: str | None,
        records: list[dict[str, Any]] | None = None,
        head: bytes = b"",
        stream: StreamedShape | _Known | None = None,
    ) -> None:
        self.kind = kind
        self.records = records or []
        self._head = head
        self._stream = stream

    @property
    def keys(self) -> list[str]:
        """Top-level keys (see the class docstring)."""
        return self._reader().keys()

    @property
    def values(self) -> dict[str, Any]:
        """Scalar values by dotted path (see the class docstring)."""
        return self._reader().values()

    def has(self, *keys: str) -> bool:
        """True when every key is a top-level key (read on only as far as needed: in the head,
        or past it inside :func:`streaming`)."""
        return self._reader().has(*keys)

    def value(self, dotted: str) -> Any:
        """The first scalar at ``dotted`` (``"info.mini_version"``), or None."""
        return self._reader().value(dotted)

    def item_keys(self) -> set[str]:
        """Keys seen on the items of a top-level array."""
        return {path.split(".")[1] for path in self.values if path.startswith("item.") and path.count(".") >= 1}

    def _reader(self) -> StreamedShape | _Known:
        if self._stream is None:
            self._stream = _head_reader(self._head, self.kind, self.records)
        return self._stream


class _Known:
    """Keys and values known whole (a JSONL head's first record, a head holding its document)."""

    def __init__(self, keys: list[str], values: dict[str, Any]) -> None:
        self._keys = keys
        self._values = values

    def keys(self) -> list[str]:
        return self._keys

    def values(self) -> dict[str, Any]:
        return self._values

    def has(self, *keys: str) -> bool:
        return all(key in self._keys for key in keys)

    def value(self, dotted: str) -> Any:
        return self._values.get(dotted)


def _head_reader(stripped: bytes, kind: str | None, records: list[dict[str, Any]]) -> StreamedShape | _Known:
    """What answers questions about a head's keys and values (see :class:`Sniff`)."""
    if kind == "jsonl":
        return _Known(list(records[0]), {})
    if kind is None:
        return _Known([], {})
    if stripped.rstrip()[-1:] in (b"}", b"]"):  # else the head is cut: no parse to try
        try:
            known = _parsed_shape(orjson.loads(stripped), bounded=False)
        except orjson.JSONDecodeError:
            known = None
        if known is not None:
            return known
    return StreamedShape(stripped, kind, bounded=False)


def _parsed_shape(document: Any, bounded: bool) -> _Known | None:
    """The keys and values of a parsed document (:func:`_shallow`); None when it is no container."""
    if not isinstance(document, (dict, list)):
        return None
    keys: list[str] = []
    values: dict[str, Any] = {}
    _shallow(document, "", 0, keys, values, bounded)
    return _Known(keys, values)


_STREAMED: ContextVar[tuple[bytes, Sniff] | None] = ContextVar("skillforge_streamed_sniff", default=None)


@contextmanager
def streaming(path: Path, head: bytes) -> Iterator[None]:
    """Within this block, :func:`sniff` of ``head`` reads ``path`` past the head to answer questions
    about keys, and :func:`mentions` of ``head`` is True (see the module docstring).

    Raises:
        OSError: from a question about keys, when ``path`` cannot be opened.
    """
    shape = _sniff(head)
    stream = _file_reader(path, shape.kind or "object")
    token = _STREAMED.set((head, Sniff(shape.kind, shape.records, head, stream)))
    try:
        yield
    finally:
        _STREAMED.reset(token)
        if isinstance(stream, StreamedShape):
            stream.close()


WHOLE_FILE_BYTES = 4 * 1024 * 1024
"""In the second round a file up to this size is parsed whole (orjson) to answer questions about
its keys, with the bounds of :class:`~skillforge.ingest.toplevel.StreamedShape` (a parse costs
far less than its ijson events; one such document's objects stay a few tens of MB)."""


def _file_reader(path: Path, kind: str) -> StreamedShape | _Known:
    """What answers questions about the keys of ``path`` past its head (:func:`streaming`)."""
    try:
        small = path.stat().st_size <= WHOLE_FILE_BYTES
        known = _parsed_shape(orjson.loads(path.read_bytes()), bounded=True) if small else None
    except (OSError, orjson.JSONDecodeError):  # JSONL, or unreadable: the stream says (or raises) later
        known = None
    return known if known is not None else StreamedShape(path, kind)


def streamed(head: bytes) -> bool:
    """True inside :func:`streaming` for ``head``: the second round of detection, where questions
    about keys are answered from the whole file."""
    active = _STREAMED.get()
    return active is not None and active[0] is head


def cut_document(head: bytes, size: int) -> bool:
    """True when ``head`` (the first ``size`` bytes read of a file) ends inside a JSON document
    or a first JSONL line: a key that decides the format may lie beyond it."""
    return len(head) >= size and _sniff(head).kind in ("object", "array")


MENTIONED = (
    "sessionId",
    "parentUuid",
    "uuid",
    "payload",
    "simulations",
    "trajectory",
    "trajectory_format",
    "mini_version",
    "source",
    "history",
    "eval",
    "role",
    "resourceSpans",
    "schema_version",
)
"""Every name the formats' detectors ask :func:`mentions` about (a test keeps the list whole):
with Hyperscan on (:func:`use_fast_mentions`), one pass over a head finds all of them."""


def mentions(head: bytes, *names: str) -> bool:
    """True when one of ``names`` appears in ``head`` as a quoted JSON string (``"name"``).

    A necessary condition, cheap to test, for a name to be among a head's keys: detectors ask it
    before they read :attr:`Sniff.keys` or :attr:`Sniff.values`, whose walk of the head's JSON
    events costs far more, and after :attr:`Sniff.kind` (cached per head, where each call here
    reads the whole head: about 20 µs for 64 KiB, 2 ms per copy of the corpus). With
    :func:`use_fast_mentions`, the names of :data:`MENTIONED` are found in one Hyperscan pass
    per head (0.4 ms per copy). (A key spelled with ``\\u`` escapes would not be mentioned; no
    log writer does that.) Inside :func:`streaming` it is always True: the head is known not to
    hold everything.
    """
    active = _STREAMED.get()
    if active is not None and active[0] is head:
        return True
    if _fast_names and _MENTIONED_SET.issuperset(names):
        found = _names_in(head)
        return any(name in found for name in names)
    return any(b'"%s"' % name.encode() in head for name in names)


_MENTIONED_SET = frozenset(MENTIONED)

_fast_names: Any = None
"""The quoted names of :data:`MENTIONED` as one Hyperscan database, once :func:`use_fast_mentions`
made it; False when it could not."""


def use_fast_mentions() -> bool:
    """Answer :func:`mentions` with one Hyperscan pass per head from now on, in this process and in
    the workers it forks (ingest switches it on with the secret scanner's Hyperscan gates, for
    large inputs: :data:`skillforge.ingest.workers.FAST_GATES_MIN_BYTES`). The database matches
    bytes, not UTF-8 (a head may be cut inside a character, or not be text at all), and compiles
    in about 2 ms. Returns False, and each name is looked for on its own as before, when
    Hyperscan is not installed."""
    global _fast_names
    if _fast_names is None:
        from skillforge.secret_scan.hyperscan_gates import compile_gates

        quoted = [re.escape(f'"{name}"') for name in MENTIONED]
        _fast_names = compile_gates(quoted, utf8=False) or False
    return bool(_fast_names)


@lru_cache(maxsize=4)
def _names_in(head: bytes) -> frozenset[str]:
    """The names of :data:`MENTIONED` quoted in ``head`` (the detectors of one file share it)."""
    return frozenset(MENTIONED[index] for index in _fast_names.Match(head))


def sniff(head: bytes) -> Sniff:
    """Look at ``head`` (the first bytes of a file) without parsing the whole file.

    Parses with ijson's event parser until the head runs out, so keys and values that sit within
    :data:`HEAD_BYTES` are found even when the document is much larger; inside :func:`streaming`,
    keys and values are read on from the file.
    """
    active = _STREAMED.get()
    if active is not None and active[0] is head:
        return active[1]
    return _sniff(head)


@lru_cache(maxsize=4)
def _sniff(head: bytes) -> Sniff:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] not in (b"{", b"["):
        return Sniff(None)
    records = head_json_lines(stripped)
    if records and (len(records) >= 2 or stripped.split(b"\n", 1)[-1].strip()):
        return Sniff("jsonl", records)
    return Sniff("array" if stripped[:1] == b"[" else "object", records, stripped)


def _shallow(
    value: Any, prefix: str, dots: int, keys: list[str], values: dict[str, Any], bounded: bool = False
) -> None:
    """What the ijson events of a document record (:class:`~skillforge.ingest.toplevel.StreamedShape`),
    from a parsed container at ``prefix`` (ijson's dotted path, ``item`` for an array's items;
    ``dots``: the dots in it), visited in document order and no deeper than the events it records.
    Two oddities no log writer makes are read differently: a duplicated key (the parse keeps it
    once, with its last value) and an empty key (ijson's dotted paths under it start with a dot).
    ``bounded``: stop where a bounded :class:`~skillforge.ingest.toplevel.StreamedShape` stops
    (at the key after :data:`~skillforge.ingest.toplevel.MAX_TOP_KEYS`, before the object item
    after :data:`~skillforge.ingest.toplevel.MAX_ITEMS`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not prefix:
                keys.append(key)
                if bounded and len(keys) > MAX_TOP_KEYS:
                    return
                path, depth = key, 0
            else:
                path, depth = f"{prefix}.{key}", dots + 1
                if dots <= 1:
                    values.setdefault(path, None)
            _item(item, path, depth, keys, values)
    else:
        path = f"{prefix}.item" if prefix else "item"
        depth = dots + 1 if prefix else 0
        objects = 0
        for item in value:
            if bounded and not prefix and isinstance(item, dict):
                objects += 1
                if objects > MAX_ITEMS:
                    return
            _item(item, path, depth, keys, values)


def _item(item: Any, path: str, depth: int, keys: list[str], values: dict[str, Any]) -> None:
    if isinstance(item, (dict, list)):
        if depth <= 1:  # deeper containers hold nothing the events would record
            _shallow(item, path, depth, keys, values)
    elif item is not None and depth <= 2 and values.get(path) is None:
        values[path] = item


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
