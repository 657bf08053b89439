"""Sniffing a file's head: a head that holds the whole document is read from its parse, a cut one
from its ijson events, and both give the same keys and values (skillforge/ingest/sniff.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillforge.ingest import sniff
from tests.conftest import REPO, SAMPLE_TRACES


def _event_shape(head: bytes, kind: str, records: list) -> tuple[list, dict]:
    keys: list = []
    values: dict = {}
    sniff._event_shape(head, keys, values)
    if kind == "object" and len(records) == 1 and not keys:
        keys = list(records[0])
    return keys, values


def _heads(shared_traces: Path) -> list[tuple[Path, bytes]]:
    roots = (shared_traces, REPO / "tests" / "data" / "wild", SAMPLE_TRACES)
    files = sorted(p for root in roots for p in root.rglob("*") if p.is_file() and p.suffix != ".md")
    return [(path, path.read_bytes()) for path in files]


def test_whole_document_heads_give_what_their_events_give(shared_traces: Path) -> None:
    """On every real log whose document fits the head, the parsed document's keys and values
    equal those of the ijson event walk, in the same order; so do cut heads (walked by events)."""
    whole = cut = 0
    for path, data in _heads(shared_traces):
        for head in (data, data[:2048]):
            shape = sniff._sniff(head)
            if shape.kind not in ("object", "array"):
                continue
            got = sniff._head_shape(shape._head, shape.kind, shape.records)
            expected = _event_shape(shape._head, shape.kind, shape.records)
            assert got == expected, path
            assert list(got[1].items()) == list(expected[1].items()), path
            whole += head is data
            cut += len(head) < len(data)
    assert whole >= 30 and cut >= 30


@pytest.mark.parametrize(
    "document",
    [
        b'{"a": {"b": {"c": 1, "d": {"e": 2}}, "l": [{"role": "user"}, {"role": "x", "n": null}]}, "s": true}',
        b'[{"task_id": 1, "traj": [{"role": "system"}], "reward": 0.5}, [[1, 2]], "x", null, 3]',
        b'{"i": {"inner": 1}, "k": [null, 2.5, {"deep": {"deeper": {"deepest": 1}}}]}',
        b'{"a": null, "b": {"c": null}, "b2": {"c": "later"}, "n": 1e3, "m": -0}',
    ],
)
def test_shallow_walk_records_what_the_events_record(document: bytes) -> None:
    """Nested arrays and objects, nulls, numbers in exponent form: the same keys and values, in
    the same order."""
    shape = sniff._sniff(document)
    got = sniff._head_shape(shape._head, shape.kind, shape.records)
    expected = _event_shape(shape._head, shape.kind, shape.records)
    assert got == expected and list(got[1].items()) == list(expected[1].items())
