"""Read-only places give one ``error:`` line naming the path, no traceback, and nothing is lost
(issue 16): a store, a run folder or a working directory that cannot be written."""

from __future__ import annotations

from pathlib import Path

from skillforge.store.git_store import SkillStore
from tests.cli_runner import run
from tests.readonly import read_only


def _one_error(result, fragment: str) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 1 and len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr and fragment in errors[0], errors
    return errors[0]


def test_distill_checks_the_store_before_reading_any_log(sample_traces: Path, workdir: Path) -> None:
    store = workdir / "skills"
    store.mkdir()
    with read_only(store):
        result = run("distill", str(sample_traces), "-q", cwd=workdir)
    line = _one_error(result, f"cannot write the skill store {Path('skills')}")
    assert "Reading logs" not in result.stderr and not (workdir / ".skillforge").exists(), line


def test_distill_checks_the_run_folder(sample_traces: Path, workdir: Path) -> None:
    runs = workdir / "runs"
    runs.mkdir()
    with read_only(runs):
        result = run("distill", str(sample_traces), "-q", "--runs", str(runs), cwd=workdir)
    _one_error(result, f"cannot write the run folder {runs}")
    assert not (workdir / "skills").exists()


def test_read_only_working_directory(sample_traces: Path, workdir: Path) -> None:
    with read_only(workdir):
        result = run("distill", str(sample_traces), "-q", cwd=workdir)
    _one_error(result, "cannot write the skill store skills")


def test_rollback_into_a_read_only_store_loses_nothing(sample_traces: Path, workdir: Path) -> None:
    assert run("distill", str(sample_traces), "-q", cwd=workdir).returncode == 0
    store = workdir / "skills"
    skills = SkillStore(store)  # a hand edit as v2, so that v1's content is not the latest
    edited = skills.materialize("sample-traces", None, workdir / "edit")
    (edited / "SKILL.md").write_text((edited / "SKILL.md").read_text() + "\nChecked by hand.\n")
    skills.commit_version("sample-traces", 2, edited, {"inputs": ["hand edit"]})
    before = sorted(p.relative_to(store) for p in store.rglob("*"))
    git_dir = store / ".git"
    with read_only(git_dir), read_only(store):
        result = run("rollback", "sample-traces", "v1", cwd=workdir)
    _one_error(result, str(Path("skills") / ".git" / "skillforge-pending.json") + ":")
    assert sorted(p.relative_to(store) for p in store.rglob("*")) == before
    assert "v3" not in run("log", "sample-traces", cwd=workdir).stdout


def test_runs_folder_from_the_environment_and_the_config_file(sample_traces: Path, workdir: Path) -> None:
    result = run("distill", str(sample_traces), "-q", cwd=workdir, env={"SKILLFORGE_RUNS": str(workdir / "env-runs")})
    assert result.returncode == 0 and len(list((workdir / "env-runs").iterdir())) == 1
    assert not (workdir / ".skillforge" / "runs").exists()
    (workdir / "skillforge.toml").write_text('[paths]\nruns = "toml-runs"\n')
    again = run("distill", str(sample_traces), "-q", "--allow-empty", cwd=workdir)
    assert again.returncode == 0 and len(list((workdir / "toml-runs").iterdir())) == 1
    shown = run("report", "latest", cwd=workdir)
    assert shown.returncode == 0 and "run " in shown.stdout
    assert run("report", "latest", "--runs", str(workdir / "empty"), cwd=workdir).stderr.strip() == (
        f"error: no runs in {workdir / 'empty'}"
    )
