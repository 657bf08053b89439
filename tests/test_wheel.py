"""The wheel ships templates/, schemas/ and sample_traces/ and works when installed (not editable)."""

from __future__ import annotations

import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("skillforge-*.whl")
    return built


def test_wheel_contains_data_folders(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("templates", "schemas", "sample_traces"):
        shipped = {n for n in names if n.startswith(f"skillforge/{folder}/")}
        on_disk = {f"skillforge/{p.relative_to(REPO).as_posix()}" for p in (REPO / folder).rglob("*") if p.is_file()}
        assert on_disk and on_disk <= shipped, folder


def test_installed_wheel_runs(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    [purelib] = (env_dir / "lib").glob("python*/site-packages")
    # the dependencies come from the test environment (no network); skillforge itself only from the wheel
    (purelib / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    skillforge = env_dir / "bin" / "skillforge"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import skillforge, sys; print(skillforge.__file__)"],
        cwd=outside,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(purelib))
    helped = subprocess.run([str(skillforge), "--help"], cwd=outside, capture_output=True, text=True)
    assert helped.returncode == 0 and "distill" in helped.stdout
    distilled = subprocess.run(
        [str(skillforge), "distill", str(purelib / "skillforge" / "sample_traces"), "--skill", "demo", "-q"],
        cwd=outside,
        capture_output=True,
        text=True,
    )
    assert distilled.returncode == 0, distilled.stderr
    assert (outside / "skills" / "demo" / "SKILL.md").is_file()
