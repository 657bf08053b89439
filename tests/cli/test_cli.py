"""The CLI as a new user meets it: distill, validate, log, and errors without tracebacks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from skillforge.analyze.grounding import normalize_whitespace
from skillforge.ingest import ingest
from skillforge.ingest.report import IngestReport
from tests.cli_runner import Result
from tests.cli_runner import run as run_cli

EVIDENCE_CELL = re.compile(r"`([^`]+)`: ([\d, ]+)")


def run(*args: str, cwd: Path) -> Result:
    return run_cli(*args, cwd=cwd, columns=None)


def _evidence(skill_md: str) -> list[tuple[str, list[int]]]:
    table = skill_md.split("## Evidence", 1)[1]
    return [(m.group(1), [int(x) for x in m.group(2).split(",")]) for m in EVIDENCE_CELL.finditer(table)]


def test_distill_sample_traces_twice(sample_traces: Path, workdir: Path) -> None:
    first = run("distill", str(sample_traces), cwd=workdir)
    assert first.returncode == 0, first.stderr
    assert "stored sample-traces v1" in first.stdout
    assert "Analysing trajectories" in first.stderr  # progress shown
    skill = workdir / "skills" / "sample-traces"
    checked = run("validate", str(skill), cwd=workdir)
    assert checked.returncode == 0, checked.stdout
    text = (skill / "SKILL.md").read_text()
    assert "version: '1'" in text
    # every cited (session, steps) is a real step of a real input trajectory
    trajectories = {t.session_id: t for t in ingest([sample_traces], IngestReport())}
    cited = _evidence(text)
    assert cited
    for session_id, step_ids in cited:
        for step_id in step_ids:
            assert trajectories[session_id].step(step_id) is not None
    # the same logs again: nothing new, so nothing is stored (exit 3, one line saying why)
    second = run("distill", str(sample_traces), "--quiet", cwd=workdir)
    assert second.returncode == 3, second.stderr
    errors = [line for line in second.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "nothing new: the skill would equal" in errors[0] and "--allow-empty" in errors[0]
    assert "Analysing" not in second.stderr  # --quiet silences progress
    assert "v2" not in run("log", "sample-traces", cwd=workdir).stdout
    # asked for, the same content is stored as v2 anyway
    forced = run("distill", str(sample_traces), "--quiet", "--allow-empty", cwd=workdir)
    assert forced.returncode == 0 and "stored sample-traces v2" in forced.stdout, forced.stderr
    history = run("log", "sample-traces", cwd=workdir)
    assert history.returncode == 0
    assert "v1" in history.stdout and "v2" in history.stdout


@pytest.mark.parametrize(("folder", "name"), [("tau-bench", "airline-support"), ("claude-code", "spotter-dev")])
def test_distill_real_corpora(shared_traces: Path, workdir: Path, folder: str, name: str) -> None:
    result = run("distill", str(shared_traces / folder), "--skill", name, "-q", cwd=workdir)
    assert result.returncode == 0, result.stderr
    skill = workdir / "skills" / name
    assert run("validate", str(skill), "--json", cwd=workdir).returncode == 0
    trajectories = {t.session_id: t for t in ingest([shared_traces / folder], IngestReport())}
    for session_id, step_ids in _evidence((skill / "SKILL.md").read_text()):
        assert all(trajectories[session_id].step(s) for s in step_ids)


def test_malformed_line_reported_and_run_goes_on(sample_traces: Path, workdir: Path) -> None:
    logs = workdir / "logs"
    logs.mkdir()
    lines = (sample_traces / "claude-code" / "short.jsonl").read_bytes().splitlines()
    (logs / "s.jsonl").write_bytes(b"\n".join(lines[:5] + [b"{not json"] + lines[5:]) + b"\n")
    # the session holds two refused calls without a reason and no error: no item, so --allow-empty stores it
    result = run("distill", str(logs), "-q", "--allow-empty", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert f"{logs / 's.jsonl'}:6: malformed JSON line skipped" in normalize_whitespace(result.stderr)


@pytest.mark.parametrize("setup", ["empty", "missing", "unknown"])
def test_nothing_readable_exits_non_zero_with_one_line(workdir: Path, setup: str) -> None:
    logs = workdir / "logs"
    if setup != "missing":
        logs.mkdir()
    if setup == "unknown":
        (logs / "a.json").write_bytes(orjson.dumps({"some": "thing"}))
    result = run("distill", str(logs), "-q", cwd=workdir)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1


def test_invalid_skill_name_is_refused(sample_traces: Path, workdir: Path) -> None:
    result = run("distill", str(sample_traces), "--skill", "Bad_Name", "-q", cwd=workdir)
    assert result.returncode == 1 and "not valid" in result.stderr
    assert not (workdir / "skills").exists()


def test_validate_reports_violations_with_lines(workdir: Path) -> None:
    folder = workdir / "broken-skill"
    folder.mkdir()
    (folder / "SKILL.md").write_text("---\nname: other\ndescription: x\n---\n# T\n\n## Empty\n")
    result = run("validate", str(folder), cwd=workdir)
    assert result.returncode == 1
    assert "SKILL.md:2: error: name 'other' must equal the folder name 'broken-skill'" in normalize_whitespace(
        result.stdout
    )
    assert "SKILL.md:7: error: section 'Empty' is empty" in normalize_whitespace(result.stdout)


def test_help_does_not_import_litellm(workdir: Path) -> None:
    code = "import sys, skillforge.cli, skillforge.distill.pipeline; assert 'litellm' not in sys.modules, 'litellm imported'"
    assert subprocess.run([sys.executable, "-c", code], cwd=workdir).returncode == 0
    assert run("--help", cwd=workdir).returncode == 0


def test_first_line_appears_before_litellm_is_imported(sample_traces: Path, workdir: Path) -> None:
    """A real process (start-up cost matters): the first line is on screen within 0.5 s, also when
    the run goes on to import litellm (seconds); the best of five starts is taken (a loaded CI box)."""
    import time

    script = Path(sys.executable).with_name("skillforge")
    command = [str(script), "distill", str(sample_traces), "--model", "gpt-4o-mini", "--dry-run"]
    best = float("inf")
    for _ in range(5):
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert process.stderr is not None
        first = process.stderr.readline()
        best = min(best, time.monotonic() - started)
        process.kill()
        process.wait()
        assert first.startswith(b"skillforge distill: reading "), first
    assert best <= 0.5, f"first line after {best:.2f} s"


def test_counts_are_worded_in_the_singular_and_plural(sample_traces: Path, workdir: Path) -> None:
    from skillforge.wording import counted

    assert counted(1, "trajectory") == "1 trajectory" and counted(2, "trajectory") == "2 trajectories"
    assert counted(1, "file") == "1 file" and counted(1200, "file") == "1,200 files"
    assert counted(2, "analyst pass", "analyst passes") == "2 analyst passes" and counted(3, "key") == "3 keys"
    single = sample_traces / "claude-code" / "short.jsonl"
    result = run("ingest", str(single), cwd=workdir)
    assert result.returncode == 0 and "1 trajectory from 1 file;" in " ".join(result.stdout.split())


def test_binary_and_unreadable_files_are_named(sample_traces: Path, workdir: Path) -> None:
    logs = workdir / "logs"
    logs.mkdir()
    (logs / "session.jsonl").write_bytes((sample_traces / "claude-code" / "short.jsonl").read_bytes())
    (logs / "blob.jsonl").write_bytes(bytes(range(256)) * 8)
    (logs / "notes.md").write_text("# notes\n")
    for command in (("ingest", str(logs)), ("distill", str(logs), "-q", "--allow-empty")):
        result = run(*command, cwd=workdir)
        assert result.returncode == 0, result.stderr
        notes = [line for line in result.stderr.splitlines() if "skipped:" in line]
        assert notes == [f"note: 1 file skipped: {logs / 'blob.jsonl'} (binary)"], result.stderr
    document = orjson.loads(run("ingest", str(logs), "--json", cwd=workdir).stdout)
    assert {f["path"]: f["reason"] for f in document["skipped_files"]} == {
        str(logs / "blob.jsonl"): "binary",
        str(logs / "notes.md"): "not a known agent log format",
    }


def test_outcomes_file_matching_nothing_is_a_warning_with_both_sides(sample_traces: Path, workdir: Path) -> None:
    labels = workdir / "labels.csv"
    labels.write_text("session_id,outcome\nnot-a-session,success\nnor-this,failure\n")
    result = run("ingest", str(sample_traces), "--outcomes", str(labels), cwd=workdir)
    warnings = [line for line in result.stderr.splitlines() if "matched a trajectory" in line]
    assert len(warnings) == 1 and "not-a-session, nor-this" in warnings[0] and "55604662" in warnings[0]
    labels.write_text("session_id,outcome\n55604662-cf2a-4331-851a-ec234028f8ca,success\n")
    assert (
        "matched a trajectory" not in run("ingest", str(sample_traces), "--outcomes", str(labels), cwd=workdir).stderr
    )
