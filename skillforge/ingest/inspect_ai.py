"""Inspect AI evaluation logs: ``.json`` and zipped ``.eval`` (UKGovernmentBEIS/inspect_ai).

Format (``shared/docs/trace-formats.md`` §9; upstream ``inspect_ai/log/_log.py``): an ``EvalLog``
``{version, status, eval{task, run_id, model, …}, plan, results, stats, samples[]}``; the ``.eval``
file is a zip of ``header.json`` (the log without samples) and ``samples/<id>_epoch_<n>.json``.
A sample has ``id``, ``epoch``, ``input``, ``target``, ``messages[]`` (chat messages; assistant
``tool_calls[{id, function, arguments: dict}]``; tool messages ``{tool_call_id, function, content,
error{type, message}}``), ``scores{scorer: {value, answer, explanation}}``, ``error``, ``limit``
and ``attachments{hash: text}``: long strings are stored once there and referenced as
``attachment://<hash>``, which this module resolves everywhere in the sample.

One trajectory per sample (and epoch). Outcome from the first scorer's ``value``: ``C``/correct/
``true``/1 → success; ``I``/incorrect/``false``/0, ``P`` (partial), ``N`` (no answer) → failure; a
number is a reward (success when ≥ 1.0); a sample ``error`` → failure; no score → unknown. The
origin is ``judge`` when the scorer grades with a model (``model_graded_qa``/``model_graded_fact``,
``inspect_ai/scorer/_model.py``: :data:`MODEL_GRADED`), ``log`` otherwise.
``extra.task_id`` is ``<task>:<sample id>`` so epochs and models of one sample are compared.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from skillforge.ingest.coerce import as_str
from skillforge.ingest.jsonio import iter_json_items
from skillforge.ingest.outcomes import outcome_from_label
from skillforge.ingest.report import IngestReport
from skillforge.ingest.sniff import mentions, sniff
from skillforge.ingest.steps import StepBuilder, add_chat_messages
from skillforge.trajectory import Agent, Outcome, SourceRef, Trajectory

NAME = "inspect-ai"

_ATTACHMENT = re.compile(r"attachment://([0-9a-f]{16,64})")
MODEL_GRADED = re.compile(r"^model_graded_")
"""Scorer names of Inspect's LLM-graded scorers (``inspect_ai/scorer/_model.py``)."""
_SCORE_WORDS = {
    "c": "success",
    "correct": "success",
    "i": "failure",
    "incorrect": "failure",
    "p": "failure",
    "n": "failure",
}


def detect(path: Path, head: bytes) -> bool:
    """True for a JSON object with ``eval`` and ``version`` (and ``samples``/``plan``/``results``),
    or a zip archive holding ``header.json``."""
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                return "header.json" in archive.namelist()
        except (zipfile.BadZipFile, OSError):
            return False
    shape = sniff(head)
    if shape.kind != "object" or not mentions(head, "eval"):
        return False
    return shape.has("version", "eval") and any(shape.has(key) for key in ("samples", "plan", "results", "status"))


def parse(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    """Yield one trajectory per sample of a ``.json`` or ``.eval`` log."""
    with open(path, "rb") as handle:
        is_zip = handle.read(4) == b"PK\x03\x04"
    if is_zip:
        yield from _zipped(path, report)
        return
    header: dict[str, Any] = {}
    for index, sample in iter_json_items(path, report, "samples.item"):
        if not header:
            header = _header_of_json(path)
        trajectory = _sample(path, index, sample, header, report)
        if trajectory is not None:
            yield trajectory


def _header_of_json(path: Path) -> dict[str, Any]:
    import ijson

    with open(path, "rb") as handle:
        try:
            for item in ijson.items(handle, "eval", use_float=True):
                return {"eval": item}
        except ijson.JSONError:
            return {}
    return {}


def _zipped(path: Path, report: IngestReport) -> Iterator[Trajectory]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        report.problem(path, None, f"not a readable .eval archive ({exc}); file skipped")
        return
    with archive:
        try:
            header = orjson.loads(archive.read("header.json"))
        except (KeyError, orjson.JSONDecodeError, zipfile.BadZipFile, OSError) as exc:
            report.problem(path, None, f"header.json unreadable ({exc}); samples read without it", "warning")
            header = {}
        names = sorted(
            (n for n in archive.namelist() if n.startswith("samples/") and n.endswith(".json")), key=_sample_order
        )
        for index, name in enumerate(names):
            try:
                sample = orjson.loads(archive.read(name))
            except (orjson.JSONDecodeError, zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
                report.problem(path, index, f"{name} unreadable ({exc}); sample skipped")
                continue
            trajectory = _sample(path, index, sample, header if isinstance(header, dict) else {}, report)
            if trajectory is not None:
                yield trajectory


def _sample_order(name: str) -> tuple:
    stem = name.rsplit("/", 1)[-1][: -len(".json")]
    parts = re.split(r"_epoch_", stem)
    return tuple(int(p) if p.isdigit() else p for p in parts)


def _sample(path: Path, index: int, sample: Any, header: dict[str, Any], report: IngestReport) -> Trajectory | None:
    if not isinstance(sample, dict) or not isinstance(sample.get("messages"), list):
        report.problem(path, index, "sample without a 'messages' list skipped")
        return None
    attachments = sample.get("attachments") if isinstance(sample.get("attachments"), dict) else {}
    messages = _resolve(sample["messages"], attachments)
    builder = StepBuilder()
    try:
        add_chat_messages(builder, messages)
    except (TypeError, ValueError) as exc:
        report.problem(path, index, f"sample {sample.get('id')} skipped: {exc}")
        return None
    evaluation = header.get("eval") if isinstance(header.get("eval"), dict) else {}
    task = as_str(evaluation.get("task")) or path.stem
    run = as_str(evaluation.get("run_id")) or as_str(evaluation.get("eval_id")) or path.stem
    sample_id = sample.get("id", index)
    epoch = sample.get("epoch", 1)
    extra: dict[str, Any] = {"task_id": f"{task}:{sample_id}", "epoch": epoch}
    if isinstance(sample.get("target"), str):
        extra["target"] = sample["target"]
    return Trajectory(
        session_id=f"inspect:{task}:{run}:{sample_id}:epoch{epoch}",
        agent=Agent(name="inspect-ai", version=_version(evaluation), model_name=as_str(evaluation.get("model"))),
        steps=builder.steps,
        source=SourceRef(format=NAME, path=str(path), line=index),
        outcome=_outcome(sample),
        final_metrics={"total_steps": len(builder.steps)},
        extra=extra,
    )


def _outcome(sample: dict[str, Any]) -> Outcome:
    error = sample.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else error
        return Outcome("failure", None, "log", f"sample error: {str(message)[:200]}")
    scores = sample.get("scores") if isinstance(sample.get("scores"), dict) else {}
    for scorer, score in scores.items():
        value = score.get("value") if isinstance(score, dict) else score
        if isinstance(value, dict):  # several metrics in one score: take the first
            value = next(iter(value.values()), None)
        detail = f"score {scorer}={value}"
        origin = "judge" if MODEL_GRADED.match(str(scorer)) else "log"
        if isinstance(value, str) and value.strip().lower() in _SCORE_WORDS:
            status = _SCORE_WORDS[value.strip().lower()]
            return Outcome(status, 1.0 if status == "success" else 0.0, origin, detail)  # type: ignore[arg-type]
        outcome = outcome_from_label(value, origin, detail)
        if outcome is not None:
            return outcome
    return Outcome()


def _resolve(value: Any, attachments: dict[str, Any], depth: int = 0) -> Any:
    """Replace ``attachment://<hash>`` references by the attached text, recursively."""
    if depth > 64:
        return value
    if isinstance(value, str):
        if "attachment://" not in value:
            return value
        return _ATTACHMENT.sub(lambda m: str(attachments.get(m.group(1), m.group(0))), value)
    if isinstance(value, list):
        return [_resolve(item, attachments, depth + 1) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, attachments, depth + 1) for key, item in value.items()}
    return value


def _version(evaluation: dict[str, Any]) -> str | None:
    packages = evaluation.get("packages")
    return as_str(packages.get("inspect_ai")) if isinstance(packages, dict) else None
