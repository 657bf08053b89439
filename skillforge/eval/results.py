"""Evaluation results stored with the version they judge: in the store, beside provenance.

One file per version, ``<store>/.eval/<name>/v<N>.json``, committed to the store's history (never
inside the skill folder, so exports never carry it; as provenance lives in
``<store>/.provenance/<name>.json``). A version may be evaluated after later versions exist, so
the file is its own commit (``eval <name> v<N>``), read back from the store's latest commit.
Shape::

    {"skill": "airline", "version": 3,
     "retro": {"label": "v3", "failures": 41, "addressed": 12, "coverage": 0.29, "successes": 19,
               "harmful": 1, "harm": 0.05, …, "judgements": [...], "baseline": {… v2's figures …},
               "held_out": {"sessions": 60, "source": "run 2025…"}},
     "ab": {"arms": [...], "comparisons": [...], "spec": {...}, "trials": [...]},
     "gate": {"retro": {"promote": true, "reasons": [...]}, "ab": {...}},
     "updated": "2025-…"}

An evaluation of one kind replaces the earlier one of that kind; the others are kept.
:func:`summary_line` is the one line ``skillforge log`` and ``skillforge show`` print.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from skillforge.errors import SkillforgeError
from skillforge.store.git_store import SkillStore

EVAL_DIR = ".eval"


def eval_record_path(name: str, version: int) -> str:
    """The record's path inside the store: ``.eval/<name>/v<N>.json``."""
    return f"{EVAL_DIR}/{name}/v{version}.json"


def load_eval(store: SkillStore, name: str, version: int) -> dict[str, Any] | None:
    """The evaluation record of ``name`` v``version``, or None when it was never evaluated.

    Raises:
        SkillforgeError: the record exists but does not parse.
    """
    data = store.read_record(eval_record_path(name, version))
    if data is None:
        return None
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SkillforgeError(f"{store.root}/{eval_record_path(name, version)}: not valid JSON ({exc})") from exc
    return record if isinstance(record, dict) else None


def save_eval(
    store: SkillStore, name: str, version: int, kind: str, result: dict[str, Any], gate: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Store the ``kind`` (``retro`` or ``ab``) result of ``name`` v``version`` (and its gate decision).

    Returns:
        The whole record as committed.

    Raises:
        SkillforgeError: unknown skill or version, or an unknown ``kind``.
    """
    if kind not in ("retro", "ab"):
        raise SkillforgeError(f"unknown evaluation kind {kind!r}")
    store.version(name, version)  # the version must exist
    record = load_eval(store, name, version) or {"skill": name, "version": version}
    record[kind] = result
    if gate is not None:
        record.setdefault("gate", {})[kind] = gate
    record["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
    data = orjson.dumps(record, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    store.commit_record(
        eval_record_path(name, version), data, f"eval {name} v{version}: {kind}\n\n{summary_line(record)}\n"
    )
    return record


def summary_line(record: dict[str, Any] | None) -> str:
    """One line for ``skillforge log`` / ``show``: coverage and harm, and/or the success rate ± interval.

    Examples: ``retro: coverage 12/41 (29 %, v2 20 %), harm 1/19 (5 %)`` and
    ``ab: 62 % [48-75] over 40 trials, +7.5 pts vs v2 (p 0.12)``; ``""`` for no record.
    """
    if not record:
        return ""
    parts = []
    retro = record.get("retro")
    if retro:
        baseline = retro.get("baseline") or {}
        coverage = _share(retro.get("addressed"), retro.get("failures"), retro.get("coverage"))
        harm = _share(retro.get("harmful"), retro.get("successes"), retro.get("harm"))
        if baseline.get("coverage") is not None:
            coverage = coverage[:-1] + f", {baseline.get('label')} {_pct(baseline['coverage'])})"
        if baseline.get("harm") is not None:
            harm = harm[:-1] + f", {baseline.get('label')} {_pct(baseline['harm'])})"
        parts.append(f"retro: coverage {coverage}, harm {harm}")
    ab = record.get("ab")
    if ab and ab.get("arms"):
        mine = ab["arms"][-1]
        text = f"ab: {_pct(mine.get('rate'))}"
        if mine.get("ci_low") is not None:
            text += f" [{100 * mine['ci_low']:.0f}-{100 * mine['ci_high']:.0f}]"
        text += f" over {mine.get('trials', 0)} trials"
        comparisons = ab.get("comparisons") or []
        if comparisons and comparisons[-1].get("delta") is not None:
            last = comparisons[-1]
            text += f", {100 * last['delta']:+.1f} pts vs {last['baseline']} (p {last['p_value']:.2g})"
        parts.append(text)
    gates = record.get("gate") or {}
    verdicts = [f"{kind} gate {'passed' if g.get('promote') else 'failed'}" for kind, g in sorted(gates.items())]
    return "; ".join(parts + verdicts)


def _share(count: Any, total: Any, value: Any) -> str:
    if not total:
        return "n/a (none judged)"
    return f"{count}/{total} ({_pct(value)})"


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * float(value):.0f} %"


def record_path(store_root: Path, name: str, version: int) -> Path:
    """Where the record sits in the store's work tree (for messages; read it with :func:`load_eval`)."""
    return Path(store_root) / eval_record_path(name, version)
