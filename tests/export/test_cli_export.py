"""`skillforge export` and `skillforge import` as a user runs them: output, exit codes, no tracebacks."""

from __future__ import annotations

from pathlib import Path

from skillforge.export.registry import HOSTS
from tests.cli_runner import Result
from tests.cli_runner import run as run_cli
from tests.export.conftest import stored_files, tree


def run(*args: str, cwd: Path, home: Path) -> Result:
    return run_cli(*args, cwd=cwd, env={"HOME": str(home)}, columns=200)


def test_list_names_every_host_with_its_paths(project: Path, home: Path) -> None:
    result = run("export", "--list", cwd=project, home=home)
    assert result.returncode == 0, result.stderr
    for host in HOSTS.values():
        assert f"{host.name} ({host.kind})  project: {host.paths['project']}" in result.stdout
        assert f"    keeps: {host.keeps}" in result.stdout and f"    drops: {host.drops}" in result.stdout
    assert "user: ~/.claude/skills/<name>/" in result.stdout


def test_export_dry_run_conflict_force(store: Path, project: Path, home: Path) -> None:
    preview = run("export", "airline@v1", "--to", "claude-code", "--store", str(store), "--dry-run", cwd=project, home=home)
    assert preview.returncode == 0, preview.stderr
    assert "would create" in preview.stdout and "dry run: airline v1 to claude-code (project): 2 create" in preview.stdout
    assert tree(project) == {}
    (project / "CLAUDE.md").write_text("# Mine\n")
    done = run("export", "airline", "--to", "claude-md", "--store", str(store), cwd=project, home=home)
    assert done.returncode == 0, done.stderr
    assert "exported airline v1 to claude-md (project): 1 update" in done.stdout
    assert (project / "CLAUDE.md").read_text().startswith("# Mine\n\n<!-- skillforge:begin airline v1")
    mine = project / ".cursor/rules/airline.mdc"
    mine.parent.mkdir(parents=True)
    mine.write_text("my rule\n")
    refused = run("export", "airline", "--to", "cursor-rules", "--store", str(store), cwd=project, home=home)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "error: nothing exported" in refused.stderr and "--force" in refused.stderr
    assert mine.read_text() == "my rule\n"
    forced = run("export", "airline", "--to", "cursor-rules", "--store", str(store), "--force", cwd=project, home=home)
    assert forced.returncode == 0 and "1 overwrite" in forced.stdout


def test_user_scope_follows_home(store: Path, project: Path, home: Path) -> None:
    result = run("export", "spotter", "--to", "claude-code", "--scope", "user", "--store", str(store), cwd=project, home=home)
    assert result.returncode == 0, result.stderr
    assert (home / ".claude/skills/spotter/SKILL.md").read_bytes() == stored_files(store, "spotter")["SKILL.md"]
    assert tree(project) == {}


def test_windsurf_cut_is_warned(store: Path, project: Path, home: Path) -> None:
    result = run("export", "airline", "--to", "windsurf-rules", "--store", str(store), cwd=project, home=home)
    assert result.returncode == 0, result.stderr
    assert "warning: SKILL.md cut to fit windsurf-rules's 12,000 chars" in result.stderr


def test_import_bundle_then_errors_without_tracebacks(store: Path, project: Path, home: Path, tmp_path: Path) -> None:
    assert run("export", "spotter", "--to", "bundle", "--store", str(store), cwd=project, home=home).returncode == 0
    fresh = tmp_path / "fresh"
    imported = run("import", "spotter.skill", "--store", str(fresh), cwd=project, home=home)
    assert imported.returncode == 0, imported.stderr
    assert f"stored spotter v1 in {fresh / 'spotter'}" in imported.stdout
    again = run("import", "spotter.skill", "--store", str(fresh), cwd=project, home=home)
    assert "identical to spotter v1; nothing stored" in again.stdout
    bad = project / "bad"
    bad.mkdir()
    (bad / "SKILL.md").write_text("---\nname: bad\n---\n# Bad\n\nText.\n")
    invalid = run("import", str(bad), "--store", str(fresh), cwd=project, home=home)
    assert invalid.returncode == 1 and "Traceback" not in invalid.stderr
    assert "SKILL.md:2: error:" in invalid.stderr and "not imported" in invalid.stderr
    for args in (("export", "airline", "--to", "nowhere"), ("export", "airline"), ("import", "missing.skill"), ("export", "../x", "--to", "agents")):
        failed = run(*args, "--store", str(store), cwd=project, home=home)
        assert failed.returncode == 1 and failed.stderr.startswith("error:") and "Traceback" not in failed.stderr, failed.stderr
