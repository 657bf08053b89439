"""Shared fixtures: where the real traces are, a scratch working directory, a real local model,
and a guard that fails any test writing skillforge's default folders into the working directory."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_TRACES = REPO / "sample_traces"
SHARED_TRACES = Path(os.environ.get("SKILLFORGE_SHARED_TRACES", REPO.parent / "shared" / "traces"))
DEFAULT_FOLDERS = ("skills", ".skillforge")
"""What skillforge writes into the current folder by default (the store, the run folders and cache)."""
_STARTED_IN = Path.cwd()


def _fingerprint(folder: Path) -> tuple | None:
    """None when ``folder`` is absent, else the modification times of it and of the folders two
    levels below it (a new skill, version, run or cache entry changes one of them)."""
    try:
        stamps = [("", folder.stat().st_mtime_ns)]
        for child in folder.iterdir():
            if child.is_dir() and not child.is_symlink():
                stamps.append((child.name, child.stat().st_mtime_ns))
                stamps += [
                    (f"{child.name}/{g.name}", g.stat().st_mtime_ns)
                    for g in child.iterdir()
                    if g.is_dir() and not g.is_symlink()
                ]
    except FileNotFoundError:
        return None
    return tuple(sorted(stamps))


@pytest.fixture(autouse=True)
def _nothing_written_into_the_working_directory() -> Iterator[None]:
    """Fail the test that creates or changes ``skills/`` or ``.skillforge/`` in the repository or in
    the folder pytest started in: tests use ``tmp_path`` or the ``workdir`` fixture instead."""
    guarded = [root / name for root in dict.fromkeys((REPO, _STARTED_IN)) for name in DEFAULT_FOLDERS]
    before = [_fingerprint(folder) for folder in guarded]
    yield
    changed = [str(folder) for folder, was in zip(guarded, before, strict=True) if _fingerprint(folder) != was]
    if changed:
        pytest.fail(
            f"this test wrote into the working directory: {', '.join(changed)} (use tmp_path or the workdir fixture)",
            pytrace=False,
        )


def require_shared_traces(sub: str = "") -> Path:
    """The real trace corpus ``../shared/traces`` (or a folder in it), for a test that needs it.

    Under CI (``CI`` set) a missing corpus FAILS the test: CI has it beside the clone, and a suite
    that silently skips a quarter of itself is not a green run. Elsewhere it skips with the reason.
    Returns ``SHARED_TRACES / sub``.
    """
    path = SHARED_TRACES / sub if sub else SHARED_TRACES
    if not path.exists():
        reason = f"real trace corpus not found at {path} (set SKILLFORGE_SHARED_TRACES)"
        if _in_ci():
            pytest.fail(f"{reason}; CI must have it", pytrace=False)
        pytest.skip(f"{reason}; bundled sample_traces/ still cover the core")
    return path


@pytest.fixture
def shared_traces() -> Path:
    """The real trace corpus in ../shared/traces: see :func:`require_shared_traces`."""
    return require_shared_traces()


@pytest.fixture
def sample_traces() -> Path:
    """The small real logs bundled with the project."""
    return SAMPLE_TRACES


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test from an empty temporary folder (the default store ./skills lands there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def make_unwritable() -> Iterator[Callable[[Path], str]]:
    """``make_unwritable(folder)``: nothing can be created, removed or renamed in ``folder``
    (created if needed) until the test ends; returns how.

    A normal user gets ``chmod 555``. Root ignores permission bits, so for root the folder gets the
    immutable attribute (``chattr +i``), which binds root too. When neither works here (root
    without CAP_LINUX_IMMUTABLE, a file system without attributes) the test is skipped, saying so.
    """
    made: list[tuple[str, Path]] = []

    def make(folder: Path) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            folder.chmod(0o555)
            made.append(("chmod 555", folder))
        else:
            chattr = shutil.which("chattr")
            done = (
                chattr is not None and subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode == 0
            )
            if not done:
                pytest.skip(f"cannot make {folder} unwritable for root here (chattr +i failed or is missing)")
            made.append(("chattr +i", folder))
        try:
            (folder / ".probe").touch()
        except OSError:
            return made[-1][0]
        (folder / ".probe").unlink()
        pytest.skip(f"{made[-1][0]} did not make {folder} unwritable here")

    yield make
    for how, folder in reversed(made):
        if how == "chattr +i":
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        else:
            folder.chmod(0o755)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def local_model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator["LlamaServer"]:  # noqa: F821
    """llama-cpp-python's OpenAI-compatible server with a real 0.5B model, for the whole session.

    Builds/fetches into ``~/.cache/skillforge-ci`` on first use (tests/local_model.py), starts the
    server on a free 127.0.0.1 port and always stops it. Yields a ``LlamaServer`` (``api_base``,
    ``port``, ``log_tail()``). A build or fetch failure fails the test loudly; outside CI,
    ``SKILLFORGE_SKIP_LOCAL_MODEL=1`` skips instead (or deselect with ``-m "not local_model"``).
    """
    from tests.local_model import LlamaServer, PrepareError, prepare

    if os.environ.get("SKILLFORGE_SKIP_LOCAL_MODEL") == "1" and not _in_ci():
        pytest.skip("SKILLFORGE_SKIP_LOCAL_MODEL=1: the real-model tests are skipped")
    hint = "CI must run these" if _in_ci() else "set SKILLFORGE_SKIP_LOCAL_MODEL=1 to skip them locally"
    try:
        prepared = prepare()
        server = LlamaServer(prepared, tmp_path_factory.mktemp("llama-server") / "server.log").start()
    except PrepareError as problem:
        pytest.fail(f"the local model server is unavailable ({hint}): {problem}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()
