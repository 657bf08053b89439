"""Every figure the offline skill states is true: recomputed from the logs, without the analyst.

``skillforge distill`` runs (offline) on ``sample_traces/`` and on each folder of ``../shared/traces``;
then every item of the SKILL.md it stores is read back with the lessons and evidence the store's
provenance puts behind its lines, and each sentence with a number in it is recomputed here from the
ingested trajectories, by code of this file only (its own regular expressions, grouping by task and
counting of calls, errors and outcomes; no function of ``skillforge.analyze``). A sentence with a
quantifier that no check below recognises fails the test: nothing is stated unchecked.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

from skillforge.ingest import ingest
from skillforge.ingest.base import IngestReport
from tests.cli_runner import run as run_cli
from tests.conftest import SAMPLE_TRACES, SHARED_TRACES

CORPORA = [
    "sample_traces",
    *(sorted(p.name for p in SHARED_TRACES.iterdir() if p.is_dir()) if SHARED_TRACES.is_dir() else []),
]
QUANTIFIER = re.compile(
    r"\b\d+ of (these |those )?\d+\b|\bevery\b|\bno (successful|failed) run\b|\ball \d+\b|\bnone of\b|"
    r"\bsupport: \d+|\b\d+ (failed|successful) runs\b|\b\d+ (more )?runs?\b|\b\d+ tasks\b"
)
LABEL_ARGS = {
    "description",
    "timeout",
    "thought",
    "yield_time_ms",
    "max_output_tokens",
    "is_input",
    "blocking",
    "is_static",
    "hidden",
    "confirmation_state",
    "security_risk",
    "session_id",
}


@cache
def _trajectories(corpus: str):
    path = SAMPLE_TRACES if corpus == "sample_traces" else SHARED_TRACES / corpus
    return {t.session_id: t for t in ingest([path], IngestReport())}


@cache
def _distilled(corpus: str, tmp: str) -> tuple[str, dict]:
    """SKILL.md and provenance of the offline distill of ``corpus``; empty when no item came out (the
    command then stores nothing and exits 3)."""
    path = SAMPLE_TRACES if corpus == "sample_traces" else SHARED_TRACES / corpus
    store = Path(tmp) / "skills"
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SKILLFORGE_")}
    done = run_cli(
        "distill", str(path), "--store", str(store), "--skill", "claims", "--quiet", cwd=Path(tmp), env=unset
    )
    if done.returncode == 3 and "nothing stored" in done.stderr:
        return "", {"spans": [], "lessons": {}}
    assert done.returncode == 0, done.stderr
    text = (store / "claims" / "SKILL.md").read_text(encoding="utf-8")
    provenance = json.loads((store / ".provenance" / "claims.json").read_text(encoding="utf-8"))
    return text, provenance


def _items(text: str, provenance: dict) -> list[dict]:
    """Items of SKILL.md (a bullet with a bold title and its indented lines), their section, lesson
    ids (from the provenance spans) and evidence."""
    lines = text.splitlines()
    spans = [s for s in provenance["spans"] if s["file"] == "SKILL.md"]
    items, section = [], ""
    for index, line in enumerate(lines, start=1):
        if line.startswith("## "):
            section = line
        if not line.startswith("- **"):
            continue
        body = [line]
        for following in lines[index:]:
            if not following.startswith("   "):
                break
            body.append(following)
        ids = {i for s in spans if s["start"] <= index <= s["end"] for i in s["lesson_ids"]}
        evidence = [e for i in sorted(ids) for e in provenance["lessons"][i]["evidence"]]
        items.append({"text": "\n".join(body), "section": section, "ids": ids, "evidence": evidence})
    return items


def _calls(trajectory):
    """(step id, name, arguments, result text or None, is_error, rejected) for every call, in order."""
    out = []
    for step in trajectory.steps:
        rejected = set(step.extra.get("rejected_call_ids", ()))
        for call in step.tool_calls:
            result = next(
                (
                    r
                    for r in (step.observation.results if step.observation else [])
                    if r.source_call_id == call.tool_call_id
                ),
                None,
            )
            out.append(
                (
                    step.step_id,
                    call.function_name,
                    call.arguments,
                    result.content if result else None,
                    bool(result and result.is_error),
                    call.tool_call_id in rejected,
                )
            )
    return out


def _error_class(text: str) -> str:
    """This test's own coarse normalisation: lower case, quoted text and anything with a digit or a slash blanked."""
    text = re.sub(r"\"[^\"]*\"|(?<!\w)'[^']*'(?!\w)|`[^`]*`", "Q", text.lower())
    return " ".join(re.sub(r"\S*[\d/]\S*", "N", text).split())


def _substance(arguments: dict) -> str:
    return json.dumps({k: v for k, v in arguments.items() if k not in LABEL_ARGS}, sort_keys=True, default=str)


def _int(match: re.Match, name: str) -> int:
    return int(match.group(name))


# --- the checks, one per kind of sentence ---------------------------------------------------------


def _check_support(item, trajectories, text: str) -> str:
    match = re.search(r"_\(support: (?P<n>\d+)\)_", text)
    if match:
        assert _int(match, "n") == len({e["session_id"] for e in item["evidence"]}), item["text"]
        for e in item["evidence"]:
            assert e["session_id"] in trajectories, e
    return re.sub(r"_\(support: \d+\)_", "", text)


def _check_pitfall(item, trajectories, text: str) -> str:
    title = re.match(r"- \*\*When `(?P<tool>[^`]+)` fails with \"(?P<example>[^\"]+)\"", item["text"])
    if not title:
        return text
    runs: dict[str, list[int]] = {}
    for e in item["evidence"]:
        runs.setdefault(e["session_id"], e["step_ids"])
    n = len(runs)
    example = title.group("example").rstrip("…")
    for session, steps in runs.items():
        calls = _calls(trajectories[session])
        failing = [c for c in calls if c[0] == steps[0] and c[4]]
        assert failing, (session, steps)
        # the cited error is of the same class as the example the title quotes
        assert any(_error_class(example)[:30] in _error_class(c[3] or "") for c in failing), (session, steps, example)
    fixed = {s: steps for s, steps in runs.items() if len(steps) == 2}
    for session, (_, fix_step) in fixed.items():
        calls = _calls(trajectories[session])
        assert any(c[0] == fix_step and not c[4] and not c[5] for c in calls), (session, fix_step)
    outcomes = defaultdict(int)
    for session in runs:
        outcomes[trajectories[session].outcome.status] += 1
    m = re.search(
        r"In (?P<k>\d+) of (?:these )?(?P<n>\d+) runs? a retry of the same call got past it; for example "
        r".*? \(step (?P<a>\d+) → (?P<b>\d+) of `(?P<s>[^`]+)`\)\.",
        text,
    )
    if m:
        assert (_int(m, "k"), _int(m, "n")) == (len(fixed), n), item["text"]
        assert fixed.get(m.group("s")) == [_int(m, "a"), _int(m, "b")], item["text"]
        assert item["section"] == ("## Procedure" if outcomes["success"] == n else "## Pitfalls"), item["text"]
        text = text.replace(m.group(0), "")
    m = re.search(
        r"In (?P<k>\d+) of (?:these )?(?P<n>\d+) runs? a retry of the same call got past it \(.*? "
        r"\(step (?P<a>\d+) → (?P<b>\d+) of `(?P<s>[^`]+)`\)\), but (?:all (?P<k2>\d+) of those runs|"
        r"(?P<both>both) of those runs|that run) failed\.",
        text,
    )
    if m:
        stated = int(m.group("k2")) if m.group("k2") else 2 if m.group("both") else 1
        assert _int(m, "k") == stated == len(fixed) and _int(m, "n") == n, item["text"]
        assert all(trajectories[s].outcome.status == "failure" for s in fixed), item["text"]
        assert fixed.get(m.group("s")) == [_int(m, "a"), _int(m, "b")], item["text"]
        text = text.replace(m.group(0), "")
    m = re.search(
        r"The new `(?P<arg>[^`]+)` was found in an earlier `(?P<tool>[^`]+)` result in (?P<j>\d+) "
        r"of those (?P<k>\d+)\.",
        text,
    )
    if m:
        found = 0
        for session, (_, fix_step) in fixed.items():
            calls = _calls(trajectories[session])
            fix = next(c for c in calls if c[0] == fix_step and not c[4])
            value = str(fix[2].get(m.group("arg")))
            found += any(
                c[1] == m.group("tool") and c[0] < fix_step and not c[4] and c[3] and value in c[3] for c in calls
            )
        assert (_int(m, "j"), _int(m, "k")) == (found, len(fixed)), item["text"]
        text = text.replace(m.group(0), "")
    m = re.search(r"In none of (?:these )?(?P<n>\d+) runs? did a retry of the same call get past it\.", text)
    if m:
        assert _int(m, "n") == n and not fixed, item["text"]
        text = text.replace(m.group(0), "")
    m = re.search(
        r"In (?P<r>\d+) of (?:these )?(?P<n>\d+) runs? the same call was sent again unchanged and failed again\.", text
    )
    if m:
        repeated = 0  # runs where a failing call of the tool was sent again unchanged and failed again
        for session in runs:
            failing = [c for c in _calls(trajectories[session]) if c[4] and c[1] == title.group("tool")]
            repeated += any(a[0] < b[0] and _substance(a[2]) == _substance(b[2]) for a in failing for b in failing)
        assert _int(m, "n") == n and _int(m, "r") <= repeated, (item["text"], repeated)
        text = text.replace(m.group(0), "")
    m = re.search(
        r"Outcomes of (?:these )?(?P<n>\d+) runs?: (?P<s>\d+) succeeded, (?P<f>\d+) failed, (?P<u>\d+) not recorded\.",
        text,
    )
    assert m, item["text"]
    assert (_int(m, "n"), _int(m, "s"), _int(m, "f"), _int(m, "u")) == (
        n,
        outcomes["success"],
        outcomes["failure"],
        outcomes["unknown"],
    )
    text = text.replace(m.group(0), "")
    m = re.search(r"Earlier versions cite \d+ more runs?\.", text)
    assert not m, "a first version has no earlier one"
    return text


def _both_ways(trajectories) -> dict[str, list]:
    by_task = defaultdict(list)
    for t in trajectories.values():
        if t.task_id is not None and t.outcome.status in ("success", "failure"):
            by_task[t.task_id].append(t)
    return {task: runs for task, runs in by_task.items() if {r.outcome.status for r in runs} == {"success", "failure"}}


def _check_comparative(item, trajectories, text: str) -> str:
    m = re.search(
        r"In the (?P<t>\d+) tasks seen both succeeding and failing, (?P<a>\d+) of (?P<ns>\d+) successful "
        r"runs called `(?P<tool>[^`]+)`, against (?P<b>\d+) of (?P<nf>\d+) failed runs\.",
        text,
    )
    if not m:
        return text
    tasks = _both_ways(trajectories)
    runs = [r for group in tasks.values() for r in group]
    tool = m.group("tool")

    def called(t, name):
        return any(c[1] == name and not c[4] and not c[5] for c in _calls(t))

    successes = [r for r in runs if r.outcome.status == "success"]
    failures = [r for r in runs if r.outcome.status == "failure"]
    with_tool = [r for r in successes if called(r, tool)]
    assert (_int(m, "t"), _int(m, "ns"), _int(m, "nf")) == (len(tasks), len(successes), len(failures)), item["text"]
    assert (_int(m, "a"), _int(m, "b")) == (len(with_tool), sum(called(r, tool) for r in failures)), item["text"]
    assert {e["session_id"] for e in item["evidence"]} == {r.session_id for r in with_tool}
    text = text.replace(m.group(0), "")
    o = re.search(
        r"In (?P<k>\d+) of those (?P<a>\d+) successful runs its first call came (?P<order>before|after) "
        r"the first `(?P<other>[^`]+)`\.",
        text,
    )
    if o:
        count = 0
        for run in with_tool:
            calls = [c for c in _calls(run) if not c[4] and not c[5]]
            first = next(i for i, c in enumerate(calls) if c[1] == tool)
            other = next((i for i, c in enumerate(calls) if c[1] == o.group("other")), None)
            if other is not None and (first < other if o.group("order") == "before" else first > other):
                count += 1
        assert (_int(o, "k"), _int(o, "a")) == (count, len(with_tool)), item["text"]
        text = text.replace(o.group(0), "")
    o = re.search(r"In (?P<k>\d+) of those (?P<a>\d+) successful runs it was the first tool called\.", text)
    if o:
        count = sum(1 for run in with_tool if [c[1] for c in _calls(run)][:1] == [tool])
        assert (_int(o, "k"), _int(o, "a")) == (count, len(with_tool)), item["text"]
        text = text.replace(o.group(0), "")
    return text


def _check_ending(item, trajectories, text: str) -> str:
    m = re.search(
        r"(?P<k>\d+) failed runs of (?P<t>\d+) tasks had no tool error and ended with a `(?P<tool>[^`]+)` "
        r"call, which no successful run of the same task made\.",
        text,
    )
    if not m:
        return text
    tool, ended = m.group("tool"), []
    for group in _both_ways(trajectories).values():
        made = {c[1] for r in group if r.outcome.status == "success" for c in _calls(r) if not c[4]}
        for run in group:
            calls = _calls(run)
            if (
                run.outcome.status == "failure"
                and calls
                and not any(c[4] for c in calls)
                and calls[-1][1] == tool
                and tool not in made
            ):
                ended.append(run)
    assert (_int(m, "k"), _int(m, "t")) == (len(ended), len({r.task_id for r in ended})), item["text"]
    assert {e["session_id"] for e in item["evidence"]} == {r.session_id for r in ended}
    return text.replace(m.group(0), "")


def _check_procedure(item, trajectories, text: str) -> str:
    m = re.search(
        r"Steps in order, each with how many of the (?P<n>\d+) successful (?P<family>\S+) runs "
        r"(?:whose last call was `(?P<end>[^`]+)` )?did it and every step before it\.",
        text,
    )
    if not m:
        return text
    successes = [
        t for t in trajectories.values() if t.outcome.status == "success" and t.source.format == m.group("family")
    ]
    if m.group("end"):  # the runs whose last call that neither failed nor was refused is that tool
        successes = [t for t in successes if [c[1] for c in _calls(t) if not c[4] and not c[5]][-1:] == [m["end"]]]
    assert _int(m, "n") == len(successes), item["text"]
    per_run = defaultdict(list)
    for e in item["evidence"]:
        per_run[e["session_id"]].append(e["step_ids"][0])
    for session, steps in per_run.items():
        assert trajectories[session].outcome.status == "success" and steps == sorted(steps), (session, steps)
    text = text.replace(m.group(0), "")
    for step in re.finditer(r"^ +(?P<i>\d+)\. .*?: (?P<k>\d+) of (?P<n>\d+)\.?$", text, re.MULTILINE):
        assert _int(step, "n") == len(successes)
        assert _int(step, "k") == sum(1 for steps in per_run.values() if len(steps) >= _int(step, "i")), item["text"]
        called = re.search(r"call `(?P<tool>[^`]+)`", step.group(0))
        if called:  # a tool step: the run's cited step for it calls that tool
            for session, steps in per_run.items():
                if len(steps) >= _int(step, "i"):
                    assert any(
                        c[0] == steps[_int(step, "i") - 1] and c[1] == called.group("tool")
                        for c in _calls(trajectories[session])
                    )
        text = text.replace(step.group(0), "")
    return text


def _check_correction(item, trajectories, text: str) -> str:
    m = re.search(
        r"In this session the user (refused the call and said|stopped the agent and said|answered): "
        r"\"(?P<words>.+)\"\.",
        text,
    )
    if not m:
        return text
    [session] = {e["session_id"] for e in item["evidence"]}
    words = m.group("words").rstrip("…")[:100]
    user_steps = [s for s in trajectories[session].steps if " ".join(words.split()) in " ".join(s.text().split())]
    assert user_steps, item["text"]
    return text.replace(m.group(0), "")


CHECKS = (_check_support, _check_pitfall, _check_comparative, _check_ending, _check_procedure, _check_correction)


@pytest.mark.parametrize("corpus", CORPORA)
def test_every_stated_figure_is_recomputed_from_the_logs(corpus: str, tmp_path: Path, shared_traces: Path) -> None:
    if corpus != "sample_traces":
        assert (shared_traces / corpus).is_dir()
    trajectories = _trajectories(corpus)
    text, provenance = _distilled(corpus, str(tmp_path))
    items = _items(text, provenance)
    for item in items:
        assert item["ids"], f"an item with no lessons behind it: {item['text'][:120]}"
        rest = item["text"]
        for check in CHECKS:
            rest = check(item, trajectories, rest)
        # no quantified sentence is left unchecked (the title and worked examples hold no counts)
        body = rest.split("**", 2)[-1]
        assert not QUANTIFIER.search(body), f"unchecked claim in {corpus}: {body!r}"
    print(f"\n{corpus}: {len(items)} items checked")


def test_no_item_repeats_the_readme_showcase_falsehoods(sample_traces: Path, tmp_path: Path) -> None:
    """The README's old showcase ("every successful attempt did, no failed attempt did") was false on
    its 16 runs; no item says "every … attempt" or "to complete the task" any more."""
    text, _ = _distilled("sample_traces", str(tmp_path))
    assert (
        "every successful attempt" not in text
        and "no failed attempt" not in text
        and "to complete the task" not in text
    )
