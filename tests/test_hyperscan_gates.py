"""The secret gates run by Hyperscan (skillforge/secret_scan/hyperscan_gates.py): the same gates fire
as in RE2's Set, redaction is the same either way, the compiled database is cached, and large
inputs switch it on in the workers; so is detection's ``mentions`` (skillforge/ingest/sniff.py),
which answers as when each name is looked for alone."""

from __future__ import annotations

import ast
import importlib.util
import shutil
from pathlib import Path

import orjson
import pytest

import skillforge.secret_scan as scan
from skillforge.ingest import discover, ingest, sniff, workers
from skillforge.ingest.report import IngestReport
from skillforge.secret_scan import detectors, hyperscan_gates
from tests.conftest import _in_ci
from tests.test_secrets import _texts_beyond_ascii


@pytest.fixture(autouse=True)
def _hyperscan() -> None:
    """Hyperscan comes with the ``fast`` extra, which CI installs; elsewhere its absence skips."""
    if importlib.util.find_spec("hyperscan") is None:
        if _in_ci():
            pytest.fail("hyperscan is not installed; CI installs the project with '.[test,fast]'", pytrace=False)
        pytest.skip("hyperscan is not installed (pip install -e '.[fast]')")


@pytest.fixture
def re2_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The RE2 Set for the gates (what runs without Hyperscan), whatever an earlier test switched on."""
    monkeypatch.setattr(detectors, "_fast", False)


def _corpus_texts(shared_traces: Path) -> list[str]:
    """Every text redaction scans in the real corpus, plus generated texts beyond ASCII."""
    from skillforge.ingest import redact

    texts: list[str] = []
    original = redact.redact_texts

    def kept(batch: list[str]):
        texts.extend(batch)
        return original(batch)

    redact.redact_texts = kept
    try:
        for _ in ingest([shared_traces], IngestReport(), jobs=1):
            pass
    finally:
        redact.redact_texts = original
    return texts + _texts_beyond_ascii(800) + ["paſſword=Hunter2XyZ9", "ſecret_key: x", "\u212aey: Abc123xyz9"]


def test_hyperscan_fires_the_gates_re2_fires(shared_traces: Path, tmp_path: Path, re2_only: None) -> None:
    """On every text of the real corpus and on texts beyond ASCII (case folding such as ``ſ`` for
    ``s`` included), the same gates fire, text by text and over the texts joined."""
    fast = hyperscan_gates.compile_gates(detectors._gate_list(), tmp_path)
    assert fast is not None
    re2_set = detectors.gates()
    texts = [t for t in _corpus_texts(shared_traces) if "\ud800" not in t]  # Hyperscan takes UTF-8 only
    fired = 0
    for text in texts:
        data = text.encode("utf-8")
        assert sorted(fast.Match(data)) == sorted(re2_set.Match(data) or []), text[:200]
        fired += bool(fast.Match(data))
    joined = "\n\x00\n".join(texts).encode("utf-8")
    assert sorted(fast.Match(joined)) == sorted(re2_set.Match(joined) or [])
    assert len(texts) > 5000 and fired > 500


def test_redaction_is_the_same_with_either_gates(
    shared_traces: Path, tmp_path: Path, re2_only: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole batches redact to the same texts and counts with Hyperscan's gates as with RE2's,
    texts holding a lone surrogate (not UTF-8, so gated by RE2) included."""
    texts = _corpus_texts(shared_traces)
    assert any("\ud800" in t for t in texts)
    scan._CACHE.clear()  # long texts seen before would not be gated again
    with_re2 = [scan.redact_texts(texts[i : i + 40]) for i in range(0, len(texts), 40)]
    scan._CACHE.clear()
    monkeypatch.setattr(detectors, "_fast", None)  # not tried yet
    assert detectors.use_fast_gates(tmp_path) and detectors.fast_gates() is not None
    with_hyperscan = [scan.redact_texts(texts[i : i + 40]) for i in range(0, len(texts), 40)]
    assert with_hyperscan == with_re2
    assert sum(sum(counts.values()) for _, counts in with_re2) > 1000


def test_the_compiled_database_is_cached_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first compile writes the database into the cache folder; the next load reads it without
    compiling; a damaged file is compiled again and replaced; a folder that cannot be written only
    costs the cache."""
    import hyperscan

    gates = detectors._gate_list()
    first = hyperscan_gates.compile_gates(gates, tmp_path)
    [stored] = list(tmp_path.iterdir())
    sample = b"AKIAIOSFODNN7EXAMPLE and password: hunter2"
    assert first is not None

    class NoCompiling:
        def __init__(self, *args, **kwargs) -> None:
            raise AssertionError("compiled although the cache holds the database")

    with monkeypatch.context() as patched:
        patched.setattr(hyperscan, "Database", NoCompiling)
        cached = hyperscan_gates.compile_gates(gates, tmp_path)
    assert cached is not None and sorted(cached.Match(sample)) == sorted(first.Match(sample)) != []
    stored.write_bytes(b"not a database")
    again = hyperscan_gates.compile_gates(gates, tmp_path)
    assert again is not None and stored.read_bytes() != b"not a database"
    blocked = tmp_path / "a-file"
    blocked.write_text("where the cache folder should be")
    assert hyperscan_gates.compile_gates(gates, blocked / "cache") is not None


def test_without_hyperscan_the_re2_set_gates(monkeypatch: pytest.MonkeyPatch, re2_only: None, tmp_path: Path) -> None:
    """No Hyperscan installed: nothing is switched on and redaction runs as before."""
    import builtins

    real_import = builtins.__import__

    def no_hyperscan(name, *args, **kwargs):
        if name == "hyperscan":
            raise ImportError("no hyperscan here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(detectors, "_fast", None)
    monkeypatch.setattr(builtins, "__import__", no_hyperscan)
    assert hyperscan_gates.compile_gates(detectors._gate_list(), tmp_path) is None
    assert not detectors.use_fast_gates(tmp_path) and detectors.fast_gates() is None
    assert scan.redact_text("key AKIAIOSFODNN7EXAMPLE")[0] == "key [REDACTED:aws-access-key]"


def test_large_inputs_switch_the_workers_to_hyperscan(
    shared_traces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From FAST_GATES_MIN_BYTES of input on, the workers gate with Hyperscan (its database compiled
    into the user's cache folder) and read exactly what one process reading with RE2 reads."""
    logs = tmp_path / "logs"
    for name in ("tau-bench", "claude-code", "codex", "openhands"):
        shutil.copytree(shared_traces / name, logs / name)
    monkeypatch.setattr(detectors, "_fast", False)
    report = IngestReport()
    alone = orjson.dumps([t.to_dict() for t in ingest([logs], report, jobs=1)])
    monkeypatch.setattr(detectors, "_fast", None)
    monkeypatch.setattr(sniff, "_fast_names", None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(workers, "MIN_POOL_BYTES", 0)
    monkeypatch.setattr(workers, "CHUNK_BYTES", 256 * 1024)
    monkeypatch.setattr(workers, "FAST_GATES_MIN_BYTES", sum(p.stat().st_size for p in discover([logs])))
    pooled_report = IngestReport()
    pooled = orjson.dumps([t.to_dict() for t in ingest([logs], pooled_report, jobs=2)])
    assert detectors.fast_gates() is not None and sniff._fast_names
    assert list((tmp_path / "cache" / "skillforge").glob("secret-gates-*.hsdb"))
    assert pooled == alone and pooled_report == report


def _heads(roots: list[Path]) -> list[bytes]:
    """The head of every file under ``roots``, and heads made to trip a byte matcher: names at the
    very start and end, cut by the head's end, escaped, unquoted, inside a longer name, beside bytes
    that are not UTF-8."""
    heads = [path.read_bytes()[: sniff.HEAD_BYTES] for path in discover(roots)]
    for name in sniff.MENTIONED:
        quoted = f'"{name}"'.encode()
        heads += [
            quoted,
            quoted + b": 1}",
            b"{" + b"x" * 100 + quoted,
            b'{"a": "' + b"\xff\xfe\xc3" + quoted + b'\x80"}',
            (b" " * (sniff.HEAD_BYTES - len(quoted) + 1) + quoted)[: sniff.HEAD_BYTES],  # cut by the end
            b'{\\"' + name.encode() + b'\\": 1}',  # escaped quotes: \"name\"
            b"{" + name.encode() + b": 1}",
            f'{{"{name}_more": 1, "x{name}": 2}}'.encode(),
        ]
    return heads


def test_fast_mentions_answer_as_each_name_looked_for_alone(
    shared_traces: Path, sample_traces: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Hyperscan, ``mentions`` finds the quoted names of a head in one pass: the same answer as
    looking for each name on its own, on every real head and on heads made to trip a byte matcher."""
    wild = Path(__file__).parent / "data" / "wild"
    heads = _heads([shared_traces, sample_traces, wild])
    asked = [(name,) for name in sniff.MENTIONED] + _asked_by_detectors()
    monkeypatch.setattr(sniff, "_fast_names", False)
    alone = [[sniff.mentions(head, *names) for names in asked] for head in heads]
    monkeypatch.setattr(sniff, "_fast_names", None)
    assert sniff.use_fast_mentions()
    sniff._names_in.cache_clear()
    fast = [[sniff.mentions(head, *names) for names in asked] for head in heads]
    assert fast == alone
    assert sum(map(sum, alone)) > len(heads)  # the names are there to be found, not only absent
    assert sniff.mentions(b'{"unregistered": 1}', "unregistered")  # a name not in the list: looked for alone


def _asked_by_detectors() -> list[tuple[str, ...]]:
    """The names of every ``mentions(head, "…", …)`` call in the format modules."""
    asked = []
    for path in sorted((Path(sniff.__file__).parent).glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "mentions":
                asked.append(tuple(arg.value for arg in node.args[1:] if isinstance(arg, ast.Constant)))
    return asked


def test_every_name_the_detectors_ask_is_in_the_list() -> None:
    """A name missing from ``MENTIONED`` would still be looked for, alone: the one-pass scan would
    silently not serve that detector."""
    asked = _asked_by_detectors()
    assert len(asked) >= 12
    assert {name for names in asked for name in names} <= set(sniff.MENTIONED)
