"""The run part of the HTML report's model, read from a run folder (:class:`skillforge.distill.runfolder.RunFolder`).

Sources, all written by ``distill`` (DESIGN §4): ``manifest.json`` (stages, usage, timings,
the analysts' summary with the lessons the grounding check dropped), ``consolidation.json``
(:class:`skillforge.merge.report.ConsolidationReport`: levels, dropped edits, contradictions,
apply, fix rounds, validation), ``patches/patch_NNNN.json`` (proposals) and
``merge_level_N/node_NNNN.json`` (merges). A run that stopped early gives what it has; a file
that cannot be read is named in ``notes`` and left out, never guessed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
from jsonschema import ValidationError

from skillforge.distill.runfolder import RunFolder
from skillforge.errors import SkillforgeError
from skillforge.patch import Edit, Patch

_USAGE_KEYS = ("calls", "cached", "failed_calls", "retries", "prompt_tokens", "completion_tokens", "cost_usd")
_NODE = re.compile(r"node_(\d+)\.json$")


def run_model(run: RunFolder) -> dict[str, Any]:
    """What the run did, for the report's *Run* panel.

    Returns:
        ``{"id", "status", "analyst", "model", "attempts", "trajectories", "inputs", "stages",
        "total", "analysis", "consolidation", "dropped": {"grounding", "support", "unapplied"},
        "contradictions", "validation", "fix_rounds", "layout", "notes"}``. ``stages`` rows are
        ``{"stage", "calls", "cached", "failed_calls", "retries", "prompt_tokens",
        "completion_tokens", "cost_usd" (USD), "seconds"}``; ``consolidation`` is None before the
        build ran, else ``{"mode", "status", "min_support", "calls", "levels", "proposals", "merges"}``.

    Raises:
        SkillforgeError: the folder has neither a manifest nor a consolidation report.
    """
    notes: list[str] = []
    manifest = _read_json(run.root / "manifest.json", notes) or {}
    consolidation = _read_json(run.root / "consolidation.json", notes)
    if not manifest and consolidation is None:
        raise SkillforgeError(f"{run.root}: neither a run manifest nor a consolidation report; is this a run folder?")
    analysis = manifest.get("analysis") or {}
    model = (manifest.get("model") or {}).get("name") or (consolidation or {}).get("model") or None
    out: dict[str, Any] = {
        "id": manifest.get("run_id", run.run_id),
        "status": manifest.get("status", (consolidation or {}).get("status", "?")),
        "analyst": manifest.get("analyst", (consolidation or {}).get("mode", "?")),
        "model": model,
        "attempts": manifest.get("attempts", 1),
        "trajectories": (manifest.get("counts") or {}).get("trajectories"),
        "inputs": [
            {"path": i.get("path"), "format": i.get("format"), "trajectories": i.get("trajectories")}
            for i in manifest.get("inputs") or []
        ],
        "stages": _stages(manifest),
        "total": _usage(manifest.get("usage") or {})
        | {"seconds": round(sum((manifest.get("timings_s") or {}).values()), 3)},
        "analysis": {"passes": analysis.get("passes") or {}, "lessons": analysis.get("lessons") or {}},
        "consolidation": None,
        "dropped": {
            "grounding": [
                {"title": d.get("title", ""), "problems": list(d.get("problems") or []), "pass": d.get("pass_id")}
                for d in analysis.get("dropped_lessons") or []
            ],
            "grounding_count": (analysis.get("lessons") or {}).get("dropped", 0),
            "support": [],
            "unapplied": [],
        },
        "contradictions": [],
        "validation": _read_json(run.root / "validation.json", notes)
        if (run.root / "validation.json").is_file()
        else None,
        "fix_rounds": [],
        "layout": [],
        "notes": notes,
    }
    if consolidation is not None:
        out["consolidation"] = _consolidation(run, consolidation, notes)
        out["dropped"]["support"] = [
            {"level": level.get("level"), "stage": level.get("stage"), **item}
            for level in consolidation.get("levels") or []
            for item in level.get("dropped") or []
        ]
        apply = consolidation.get("apply") or {}
        out["dropped"]["unapplied"] = [
            {
                "status": item.get("status", ""),
                "reason": item.get("reason", ""),
                "edit": _edit_summary(item.get("edit") or {}),
                "lessons": list((item.get("edit") or {}).get("lesson_ids") or []),
            }
            for item in [*(apply.get("unmatched") or []), *(apply.get("rejected") or [])]
        ]
        out["contradictions"] = list(consolidation.get("contradictions") or [])
        out["fix_rounds"] = list(consolidation.get("fix_rounds") or [])
        out["layout"] = list(consolidation.get("layout") or [])
        if out["validation"] is None and consolidation.get("validation"):
            out["validation"] = consolidation["validation"]
    return out


def _edit_summary(edit: dict[str, Any]) -> str:
    """One line for an edit dict (:meth:`skillforge.patch.Edit.summary`); a malformed one by its raw fields."""
    try:
        return Edit.from_dict(edit).summary(100)
    except (KeyError, TypeError):
        return " ".join(str(edit).split())[:100]


def _stages(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per stage: the LLM usage of ``manifest["stages"]`` and the seconds of ``timings_s``."""
    usage = manifest.get("stages") or {}
    timings = manifest.get("timings_s") or {}
    names = list(dict.fromkeys([*timings, *usage]))
    order = {name: index for index, name in enumerate(("ingest", "analyse", "build", "store"))}
    names.sort(key=lambda name: order.get(name, len(order)))
    return [{"stage": name, **_usage(usage.get(name) or {}), "seconds": timings.get(name)} for name in names]


def _usage(usage: dict[str, Any]) -> dict[str, Any]:
    return {key: usage.get(key, 0) for key in _USAGE_KEYS}


def _consolidation(run: RunFolder, data: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """Levels of the consolidation report, with the proposals and merge nodes saved in the run folder.

    Patches are named by where they were made (``P3``: proposal 3; ``M2.1``: node 1 of merge level
    2) and recognised in a node's inputs by their digest (:meth:`Patch.digest`), which is what a
    node file records.
    """
    names: dict[str, str] = {}
    proposals = []
    for path in sorted((run.root / "patches").glob("patch_*.json")):
        saved = _read_json(path, notes)
        if not saved:
            continue
        label = f"P{int(path.stem.split('_')[1])}"
        patch = _patch(saved.get("reply"), path, notes)  # the proposed patch, or the fallback of a failed call
        if patch is not None:
            names[patch.digest()] = label
        proposals.append(
            {
                "label": label,
                "status": saved.get("status", "?"),
                "lessons": list(saved.get("lesson_ids") or []),
                "edits": len(patch.edits) if patch is not None else 0,
                "usage": saved.get("usage") or {},
                "error": saved.get("error"),
            }
        )
    merges: list[dict[str, Any]] = []
    for folder in sorted(
        run.root.glob("merge_level_*"),
        key=lambda p: int(p.name.rsplit("_", 1)[1]) if p.name.rsplit("_", 1)[1].isdigit() else 0,
    ):
        level = int(folder.name.rsplit("_", 1)[1]) if folder.name.rsplit("_", 1)[1].isdigit() else 0
        for path in sorted(folder.glob("node_*.json")):
            saved = _read_json(path, notes)
            if not saved:
                continue
            index = int(_NODE.search(path.name).group(1))  # type: ignore[union-attr]
            label = f"M{level}.{index}"
            reply = saved.get("reply") or {}
            patch = _patch(reply.get("patch"), path, notes) if reply else None
            if patch is not None:
                names[patch.digest()] = label
            merges.append(
                {
                    "level": level,
                    "label": label,
                    "status": saved.get("status", "?"),
                    "inputs": list(saved.get("inputs") or []),
                    "edits": len(patch.edits) if patch is not None else 0,
                    "lessons": len(patch.lesson_ids) if patch is not None else 0,
                    "dropped": len(reply.get("dropped") or []),
                    "usage": saved.get("usage") or {},
                    "error": saved.get("error"),
                }
            )
    for merge in merges:
        merge["inputs"] = [names.get(digest, digest[:10]) for digest in merge["inputs"]]
    return {
        "mode": data.get("mode", "?"),
        "status": data.get("status", "?"),
        "min_support": data.get("min_support"),
        "lessons": data.get("lessons", 0),
        "calls": data.get("calls") or {},
        "levels": list(data.get("levels") or []),
        "totals": data.get("totals") or {},
        "proposals": proposals,
        "merges": merges,
    }


def _patch(data: Any, path: Path, notes: list[str]) -> Patch | None:
    if not isinstance(data, dict):
        return None
    try:
        return Patch.from_dict(data)
    except (ValidationError, KeyError, TypeError, ValueError) as exc:  # named, left out
        notes.append(f"{path}: not a readable patch ({type(exc).__name__}); left out of the merge tree")
        return None


def _read_json(path: Path, notes: list[str]) -> Any:
    """The JSON in ``path``; None (and a note naming the file) when it is missing or broken."""
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError) as exc:
        notes.append(f"{path}: cannot be read ({exc}); left out of the report")
        return None
