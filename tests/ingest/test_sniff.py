"""Sniffing a file's head (skillforge/ingest/sniff.py): a head that holds the whole document is
read from its parse, a cut one event by event and only as far as a question needs; every way
gives the keys and values that a walk of all the head's ijson events gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillforge.ingest import sniff
from skillforge.ingest.toplevel import StreamedShape
from tests.conftest import REPO, SAMPLE_TRACES


def _all_events(head: bytes, kind: str) -> tuple[list, dict]:
    """Keys and values of a walk of every event of the head (the reference)."""
    walk = StreamedShape(head, kind, bounded=False)
    return walk.keys(), walk.values()


def _heads(shared_traces: Path) -> list[tuple[Path, bytes]]:
    roots = (shared_traces, REPO / "tests" / "data" / "wild", SAMPLE_TRACES)
    files = sorted(p for root in roots for p in root.rglob("*") if p.is_file() and p.suffix != ".md")
    return [(path, path.read_bytes()) for path in files]


def test_head_questions_answered_as_a_walk_of_all_its_events_answers_them(shared_traces: Path) -> None:
    """On every real log, whole (parsed) and cut to 2 KiB (walked as far as asked): the keys and
    values in the same order, and each key and value asked alone, on a fresh sniff, found as
    the whole walk has it; an absent key is not found."""
    whole = cut = 0
    for path, data in _heads(shared_traces):
        for head in (data, data[:2048]):
            shape = sniff._sniff(head)
            if shape.kind not in ("object", "array"):
                continue
            keys, values = _all_events(shape._head, shape.kind)
            fresh = sniff.Sniff(shape.kind, shape.records, shape._head)
            assert (fresh.keys, list(fresh.values.items())) == (keys, list(values.items())), path
            for key in keys:
                assert sniff.Sniff(shape.kind, shape.records, shape._head).has(key), (path, key)
            for dotted, value in values.items():
                assert sniff.Sniff(shape.kind, shape.records, shape._head).value(dotted) == value, (path, dotted)
            assert not sniff.Sniff(shape.kind, shape.records, shape._head).has("no such key")
            whole += len(head) == len(data)
            cut += len(head) < len(data)
    assert whole >= 30 and cut >= 30


def test_a_key_near_the_start_is_found_without_walking_the_rest(shared_traces: Path) -> None:
    """mini-swe-agent puts ``info`` first: its version is found after a few events of a cut head."""
    head = next(shared_traces.glob("mini-swe-agent/*/*.traj.json")).read_bytes()[: sniff.HEAD_BYTES]
    shape = sniff.Sniff("object", [], head)
    assert shape.value("info.mini_version") is not None and shape.has("messages")
    reader = shape._reader()
    assert isinstance(reader, StreamedShape) and not reader._done  # stopped early, head not walked to its end
    assert reader.top_keys.index("messages") < 5
    # and within a few events of the answer: a batch of events is small next to a head's thousands
    import ijson

    needed = next(
        number
        for number, (prefix, event, _) in enumerate(ijson.parse(head, multiple_values=True), start=1)
        if event == "map_key" and not prefix and _ == "messages"
    )
    walked = StreamedShape(head, "object", bounded=False)
    taken = 0
    take = walked._take

    def counted(*event):
        nonlocal taken
        taken += 1
        return take(*event)

    walked._take = counted  # type: ignore[method-assign]
    assert walked.value("info.mini_version") is not None and walked.has("messages")
    in_head = 0
    try:
        for _ in ijson.parse(head, multiple_values=True):
            in_head += 1
    except ijson.JSONError:  # the head is cut inside the document
        pass
    assert needed <= taken <= needed + 32 and needed < 1000 < in_head


@pytest.mark.parametrize(
    "document",
    [
        b'{"a": {"b": {"c": 1, "d": {"e": 2}}, "l": [{"role": "user"}, {"role": "x", "n": null}]}, "s": true}',
        b'[{"task_id": 1, "traj": [{"role": "system"}], "reward": 0.5}, [[1, 2]], "x", null, 3]',
        b'{"i": {"inner": 1}, "k": [null, 2.5, {"deep": {"deeper": {"deepest": 1}}}]}',
        b'{"a": null, "b": {"c": null}, "b2": {"c": "later"}, "n": 1e3, "m": -0}',
    ],
)
def test_parsed_head_records_what_the_events_record(document: bytes) -> None:
    """Nested arrays and objects, nulls, numbers in exponent form: the same keys and values, in
    the same order."""
    shape = sniff._sniff(document)
    keys, values = _all_events(shape._head, shape.kind)
    assert isinstance(shape._reader(), sniff._Known)
    assert (shape.keys, list(shape.values.items())) == (keys, list(values.items()))


def test_past_the_head_a_small_file_parsed_whole_reads_as_its_bounded_stream(
    shared_traces: Path, tmp_path: Path
) -> None:
    """The second round parses a file of up to WHOLE_FILE_BYTES whole; it gives what the bounded
    event stream gives (first 64 top-level keys and the one after, first three object items of an
    array), on every real log and on documents past both bounds."""
    import orjson

    many_keys = tmp_path / "keys.json"
    many_keys.write_bytes(orjson.dumps({f"k{i}": {"v": i, "d": {"e": [i]}} for i in range(70)}))
    many_items = tmp_path / "items.json"
    many_items.write_bytes(orjson.dumps([{"role": "user", f"only{i}": i} for i in range(6)] + ["x", {"late": 1}]))
    files = [path for path, _ in _heads(shared_traces)] + [many_keys, many_items]
    parsed = 0
    for path in files:
        kind = sniff._sniff(path.read_bytes()[: sniff.HEAD_BYTES]).kind
        if kind not in ("object", "array"):
            continue
        reader = sniff._file_reader(path, kind)
        stream = StreamedShape(path, kind)
        assert (reader.keys(), list(reader.values().items())) == (stream.keys(), list(stream.values().items())), path
        parsed += isinstance(reader, sniff._Known)
    assert parsed >= 30
    assert len(sniff._file_reader(many_keys, "object").keys()) == 65
    assert sniff._file_reader(many_items, "array").values().get("item.only2") == 2
    assert "item.only3" not in sniff._file_reader(many_items, "array").values()
