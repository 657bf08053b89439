"""The top-level shape of a JSON document streamed from its file, for detection past the head.

A format's distinguishing key may sit anywhere among the top-level keys: a real tau2-bench
results file puts ``timestamp, info, tasks`` (113 KB of tasks) before ``simulations``, and a
mini-swe-agent ``.traj.json`` ends with ``trajectory_format``. Detection first looks at the
file's head (:mod:`.sniff`); when no format claims a file whose head ends inside a JSON document,
:class:`StreamedShape` reads on with ijson's event parser, key by key, and stops as soon as the
keys asked for are seen, the document (or, for JSONL, the first record) ends, or
:data:`MAX_TOP_KEYS` top-level keys have gone by. The bound is a number of keys, not of bytes:
the values between keys are parsed (not kept), however large they are.

The head itself, when it ends inside its document, is read the same way (from its bytes, to
their end, without the bounds): a question about a key that sits near the start of the file then
costs the events up to that key, not those of the whole head.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MAX_TOP_KEYS = 64
"""Top-level keys read before giving up on a key that was asked for (no log format has more)."""

MAX_ITEMS = 3
"""Items of a top-level array whose keys are read (formats are told by their first items)."""


class StreamedShape:
    """Top-level keys and shallow values of the JSON document in ``source``, read as far as asked.

    Args:
        source: the file, or bytes already read (a file's head).
        kind: ``"object"`` or ``"array"`` (the first value of the file; for JSONL, its first line).
        bounded: stop after :data:`MAX_TOP_KEYS` top-level keys or :data:`MAX_ITEMS` items of a
            top-level array; False reads on to the end of the document (or of the bytes).

    Keys are in file order; values are scalars at depth ≤ 3 by dotted path (``"info.mini_version"``,
    ``"item.role"``), first occurrence only, as :class:`~skillforge.ingest.sniff.Sniff` has them.
    A document that breaks off (truncated, or not JSON after all) ends the reading: what was seen
    is kept. Nothing is raised, apart from ``OSError`` when the file cannot be opened.
    """

    def __init__(self, source: Path | bytes, kind: str, bounded: bool = True) -> None:
        self.kind = kind
        self.top_keys: list[str] = []
        self.shallow: dict[str, Any] = {}
        self._source = source
        self._bounded = bounded
        self._events: Iterator[tuple[str, str, Any]] | None = None
        self._handle: Any = None
        self._done = False
        self._items = 0

    def has(self, *keys: str) -> bool:
        """True when every key is a top-level key; reads only until they are all seen."""
        wanted = set(keys)
        while not wanted <= set(self.top_keys) and self._step():
            pass
        return wanted <= set(self.top_keys)

    def value(self, dotted: str) -> Any:
        """The first scalar at ``dotted`` (None when absent); reads only until it is seen."""
        while self.shallow.get(dotted) is None and self._step():
            pass
        return self.shallow.get(dotted)

    def keys(self) -> list[str]:
        """All top-level keys (up to :data:`MAX_TOP_KEYS`)."""
        while self._step():
            pass
        return self.top_keys

    def values(self) -> dict[str, Any]:
        """All shallow values, as far as the bounds allow."""
        self.keys()
        return self.shallow

    # ------------------------------------------------------------------ reading

    def _step(self, batch: int = 16) -> bool:
        """Consume up to ``batch`` events; False once the reading is over. The question is asked
        again after each batch: a small one keeps an early answer from reading hundreds of events
        past it (512 cost a quarter of detection's time on the corpus)."""
        if self._done:
            return False
        if self._events is None:
            import ijson

            source = self._source
            # closed in _finish
            self._handle = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
            # small reads: the events of a question answered early are not all made (a head is 64 KiB)
            self._events = iter(ijson.parse(self._handle, buf_size=8192, use_float=True, multiple_values=True))
        try:
            for _ in range(batch):
                prefix, event, value = next(self._events)
                if self._take(prefix, event, value):
                    self._finish()
                    return False
        except StopIteration:
            self._finish()
            return False
        except Exception:  # the document breaks off, or is not JSON: keep what was seen
            self._finish()
            return False
        return True

    def _take(self, prefix: str, event: str, value: Any) -> bool:
        """Record one event; True when the reading is complete."""
        if event == "map_key":
            if not prefix:
                self.top_keys.append(value)
                if len(self.top_keys) > MAX_TOP_KEYS and self._bounded:
                    return True
            elif prefix.count(".") <= 1:
                self.shallow.setdefault(f"{prefix}.{value}", None)
        elif (
            event in ("string", "number", "boolean")
            and prefix
            and self.shallow.get(prefix) is None
            and prefix.count(".") <= 2
        ):
            self.shallow[prefix] = value
        elif event == "start_map" and prefix == "item":
            self._items += 1
            return self._items > MAX_ITEMS and self._bounded
        elif event in ("end_map", "end_array") and not prefix:
            return True  # the first top-level value (the document, or JSONL's first line) is complete
        return False

    def close(self) -> None:
        """Stop reading and close the file (reading ends by itself at the bounds)."""
        self._finish()

    def _finish(self) -> None:
        self._done = True
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self._events = None
