"""The report's page model and HTML, checked without a browser on real distills."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from skillforge.distill.runfolder import RunFolder
from skillforge.errors import SkillforgeError
from skillforge.report import write_run_report, write_version_report
from skillforge.report.data import run_report_model, version_report_model
from skillforge.report.evidence import locate_quote, step_fields
from skillforge.report.html import embed_json
from skillforge.store.git_store import SkillStore
from skillforge.trajectory import Trajectory
from tests.conftest import REPO, SAMPLE_TRACES
from tests.report.runs import PAYLOAD, SECRET, distill_offline, distill_scripted, payload_logs
from tests.scripted_llm import PromptView, analyst_reply

OFFLINE_QUALITY = REPO / "tests" / "data" / "offline_quality"
"""Small real logs of several formats (see its PROVENANCE.md) that each give an offline item."""


def _utf16_slice(text: str, start: int, end: int) -> str:
    return text.encode("utf-16-le")[2 * start : 2 * end].decode("utf-16-le")


def _assert_evidence_located(model: dict, run_root: Path) -> int:
    """Every citation of every lesson points at a real step, and each mark covers the quote there."""
    trajectories = {t.session_id: t for t in RunFolder(run_root).read_trajectories()}
    checked = 0
    for lesson in model["lessons"].values():
        for evidence in lesson["evidence"]:
            assert evidence["found"] and evidence["session"] in model["trajectories"]
            assert evidence["marks"], (lesson["id"], evidence["quote"])
            trajectory = trajectories[evidence["session"]]
            for mark in evidence["marks"]:
                assert mark["step"] in evidence["steps"]
                text = step_fields(trajectory.step(mark["step"]))[mark["field"]]
                assert " ".join(_utf16_slice(text, mark["start"], mark["end"]).split()) == " ".join(
                    evidence["quote"].split()
                )
                checked += 1
    return checked


def test_offline_run_model_links_every_item_to_located_evidence(workdir: Path) -> None:
    # sample_traces/ and three mini-swe-agent runs: 21 trajectories, so one-offs (the reproduction
    # script's SyntaxError, in one run) are left out and the report lists them
    logs = workdir / "logs"
    shutil.copytree(SAMPLE_TRACES, logs)
    shutil.copytree(OFFLINE_QUALITY / "mini-swe-agent", logs / "mini-swe-agent")
    result = distill_offline(logs, "report-sample")
    model = run_report_model(result.run.root)
    skill = model["skill"]
    provenance = SkillStore(Path("skills")).provenance("report-sample")
    assert [(i["file"], i["start"], i["end"], i["lessons"]) for i in skill["items"]] == [
        (s.file, s.start, s.end, s.lesson_ids) for s in sorted(provenance.spans, key=lambda s: (s.start, s.end))
    ]
    text = skill["files"][0]["body"]
    for item in skill["items"]:
        assert item["text"] and item["text"] in text and set(item["lessons"]) <= set(model["lessons"])
    assert _assert_evidence_located(model, result.run.root) >= len(skill["items"])
    # a seed start: every line of the built skill is new
    assert skill["start"]["mode"] == "seed" and skill["changes"]["added"] > 0
    run = model["run"]
    assert [row["stage"] for row in run["stages"]] == ["ingest", "analyse", "build", "store"]
    assert run["consolidation"]["mode"] == "offline" and run["validation"]["ok"]
    dropped = run["dropped"]["support"]
    assert dropped and all(
        d["reason"].startswith("one-off") and set(d["lesson_ids"]) <= set(model["lessons"]) for d in dropped
    )
    assert model["eval"] is None and model["notes"] == []


def test_scripted_run_model_names_every_patch_of_the_merge_tree(workdir: Path) -> None:
    result = distill_scripted(SAMPLE_TRACES, "report-llm")
    model = run_report_model(result.run.root)
    consolidation = model["run"]["consolidation"]
    labels = {p["label"] for p in consolidation["proposals"]} | {m["label"] for m in consolidation["merges"]}
    assert consolidation["proposals"] and consolidation["merges"]
    for merge in consolidation["merges"]:
        assert merge["inputs"] and set(merge["inputs"]) <= labels, merge  # each input digest resolved to a patch
    assert model["run"]["stages"][1]["stage"] == "analyse" and model["run"]["stages"][1]["calls"] > 0
    assert model["run"]["total"]["calls"] == result.manifest["usage"]["calls"]
    _assert_evidence_located(model, result.run.root)


def test_lessons_the_grounding_check_dropped_are_listed_with_why(workdir: Path, tmp_path: Path) -> None:
    target: list[str] = []

    def misquote(view: PromptView, index: int) -> str | None:
        """Every analyst pass over the first trajectory seen quotes words its steps never say."""
        session = next(iter(view.sessions))
        if view.analyst == "comparative" or (target and session != target[0]):
            return None
        target[:1] = [session]
        reply = analyst_reply(view, shared_title=True, quote="words that no step of this run ever says")
        return json.dumps({"lessons": reply["lessons"]} if view.repair == "grounding" else reply)

    result = distill_scripted(SAMPLE_TRACES, "report-grounding", fault=misquote)
    model = run_report_model(result.run.root)
    dropped = model["run"]["dropped"]["grounding"]
    assert dropped and model["run"]["dropped"]["grounding_count"] == len(dropped)
    assert all("quote not found" in " ".join(d["problems"]) and target[0] in " ".join(d["problems"]) for d in dropped)
    html = write_run_report(result.run.root, tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="dropped-grounding"' in html and "words that no step of this run ever says" in html


def test_version_report_diffs_against_the_version_it_deepened(workdir: Path, tmp_path: Path) -> None:
    distill_offline(OFFLINE_QUALITY / "codex", "deepened")  # a Codex session's one item, then tau-bench
    second = distill_offline(SAMPLE_TRACES / "tau-bench", "deepened")
    model = version_report_model(Path("skills"), "deepened", None, Path(".skillforge") / "runs")
    assert model["version"]["version"] == 2 and model["skill"]["start"]["mode"] == "store"
    first_text = SkillStore(Path("skills")).read_file("deepened", 1)
    rows = model["skill"]["files"][0]["diff"]
    assert {row["text"] for row in rows if row["op"] == "-"} <= set(first_text.splitlines())
    assert any(row["op"] == "+" and "update_reservation_flights" in row["text"] for row in rows)
    assert model["run"]["id"] == second.run.run_id and model["trajectories"]
    # without the folder of runs the citations stay, the steps are gone, and the page says why
    bare = version_report_model(Path("skills"), "deepened", 2, None)
    assert bare["trajectories"] == {} and bare["run"] is None and "no folder of runs given" in bare["notes"][0]
    assert all(not e["found"] for lesson in bare["lessons"].values() for e in lesson["evidence"])
    out = write_version_report(Path("skills"), "deepened", 2, tmp_path, runs=Path(".skillforge") / "runs")
    assert out == tmp_path / "deepened-v2.html" and out.stat().st_size > 0


def test_eval_results_are_shown_only_when_the_store_has_them(workdir: Path) -> None:
    distill_offline(SAMPLE_TRACES, "evaluated")
    assert version_report_model(Path("skills"), "evaluated", 1, Path(".skillforge") / "runs")["eval"] is None
    results = Path("skills") / ".eval" / "evaluated" / "v1.json"
    results.parent.mkdir(parents=True)
    results.write_text(json.dumps({"held_out": 6, "pass_rate": 0.5, "gate": "promote"}), encoding="utf-8")
    model = version_report_model(Path("skills"), "evaluated", 1, Path(".skillforge") / "runs")
    assert model["eval"]["data"] == {"held_out": 6, "pass_rate": 0.5, "gate": "promote"}
    html = write_version_report(Path("skills"), "evaluated", 1, Path("v1.html")).read_text(encoding="utf-8")
    assert 'data-tab="eval"' in html and "pass_rate" in html


def test_a_broken_line_of_the_run_folder_is_named_and_skipped(workdir: Path, tmp_path: Path) -> None:
    result = distill_offline(SAMPLE_TRACES, "broken")
    path = result.run.root / "trajectories.jsonl"
    lines = path.read_bytes().splitlines()
    path.write_bytes(b"\n".join([lines[0], b"{not json", *lines[1:]]) + b"\n")
    model = run_report_model(result.run.root)
    assert f"{path}:2: not JSON" in model["notes"][0]
    assert len(model["trajectories"]) == len(
        {e["session"] for lesson in model["lessons"].values() for e in lesson["evidence"]}
    )
    assert write_run_report(result.run.root, tmp_path / "r.html").is_file()


def test_a_run_stopped_before_the_build_still_gets_a_page(workdir: Path, tmp_path: Path) -> None:
    result = distill_offline(SAMPLE_TRACES, "stopped")
    for name in ("consolidation.json", "provenance.json", "validation.json", "final_patch.json"):
        (result.run.root / name).unlink()
    shutil.rmtree(result.run.root / "skill")  # what a run stopped in the analysis leaves
    model = run_report_model(result.run.root)
    assert model["skill"] is None and model["run"]["consolidation"] is None and model["lessons"]
    assert "the run stopped before the skill was built" in model["notes"][0]
    html = write_run_report(result.run.root, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "No skill was built in this run yet." in html and 'id="stages"' in html


def test_not_a_run_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SkillforgeError, match="neither a run manifest nor a consolidation report"):
        run_report_model(tmp_path)


class _Tags(HTMLParser):
    """Every start tag of a page with its attributes, as an HTML parser reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_page_is_self_contained_and_payloads_stay_text(workdir: Path, tmp_path: Path) -> None:
    result = distill_offline(payload_logs(tmp_path / "logs"), "payload")
    html = write_run_report(result.run.root, tmp_path / "report.html").read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(html)
    tags = parser.tags
    # nothing outside the file is referenced, and the payload made no live markup
    assert [tag for tag, _ in tags if tag in ("script", "img", "link", "iframe", "object", "embed", "base")] == [
        "script",
        "script",
    ]
    assert all(not name.startswith("on") for _, attrs in tags for name in attrs)
    hrefs = [attrs["href"] or "" for tag, attrs in tags if "href" in attrs]
    assert all(href.startswith(("#", "file:")) for href in hrefs), hrefs
    assert "default-src 'none'" in html and "@import" not in html
    # the payload reached the page, as text: in the rendered skill and in the embedded trajectories
    assert "&lt;script&gt;window.__pwned=" in html  # the skill quotes the error with its ids normalised
    data = html.split('<script type="application/json" id="report-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data and any(PAYLOAD in text for text in _strings(json.loads(data)))
    # redacted by ingest, and still redacted in the page
    assert SECRET not in html and any("[REDACTED:" in text and PAYLOAD in text for text in _strings(json.loads(data)))


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_embedded_json_cannot_end_its_script_block() -> None:
    value = {"text": "</script><script>alert(1)</script><!-- & -->", "n": [1, "é", "\u2028"]}
    embedded = embed_json(value)
    assert "<" not in embedded and ">" not in embedded and "&" not in embedded
    assert json.loads(embedded) == value


def test_quotes_are_located_in_utf16_units_across_whitespace() -> None:
    trajectory = Trajectory.from_dict(
        {
            "session_id": "s",
            "agent": {"name": "a"},
            "source": {"format": "x", "path": "p"},
            "steps": [
                {
                    "step_id": 1,
                    "source": "agent",
                    "message": "😀 ok then:\n  Error:   disk   full",
                    "tool_calls": [
                        {"tool_call_id": "c", "function_name": "df", "arguments": {"path": "/", "human": True}}
                    ],
                }
            ],
        }
    )
    step = trajectory.steps[0]
    [mark] = locate_quote("Error: disk full", [step])
    assert mark["field"] == "m" and _utf16_slice(step.message, mark["start"], mark["end"]) == "Error:   disk   full"
    assert mark["start"] == len("😀 ok then:\n  ") + 1  # the emoji is two UTF-16 units
    [call] = locate_quote('"human":true', [step])
    assert call["field"] == "a0"
    assert locate_quote("error: DISK full", [step])[0]["field"] == "m"  # case-insensitive when no exact hit
    assert locate_quote("not there", [step]) == []


def test_cli_writes_the_run_and_version_reports(workdir: Path) -> None:
    from tests.cli_runner import run as run_cli

    assert run_cli("distill", str(SAMPLE_TRACES), "-q", cwd=workdir).returncode == 0
    shown = run_cli("report", "latest", "--html", cwd=workdir)
    written = Path(shown.stdout.split("wrote ", 1)[1].strip())
    assert shown.returncode == 0 and written.name == "report.html" and written.parent.parent.name == "runs"
    assert written.read_text(encoding="utf-8").startswith("<!doctype html>")
    version = run_cli("show", "sample-traces@v1", "--html", "--out", str(workdir / "v1.html"), cwd=workdir)
    assert version.returncode == 0 and (workdir / "v1.html").is_file(), version.stderr
