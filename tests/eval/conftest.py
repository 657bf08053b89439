"""Fixtures of the eval tests: skill folders, a store with versions, the fake agent's command."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest

from skillforge.eval.split import save_split, split_holdout
from skillforge.ingest import ingest
from skillforge.ingest.report import IngestReport
from skillforge.store.git_store import SkillStore

FAKE_AGENT = Path(__file__).with_name("fake_agent.py")

BASE = "- Greet the user and read the booking before acting."
CHANGE_RULE = "- Check the fare rules before changing a flight: read them with get_reservation_details first."
BAGS_RULE = "- Count free bags from the membership tier, not from the cabin."


def write_skill(folder: Path, *body: str, name: str = "airline") -> Path:
    """A valid skill folder ``folder/<name>`` whose body holds the lines ``body``; returns it."""
    skill = folder / name
    skill.mkdir(parents=True, exist_ok=True)
    lines = "\n".join(body)
    description = "Handle airline customer requests with the reservation tools."
    text = f"---\nname: {name}\ndescription: {description}\n---\n\n# Airline\n\n## Rules\n\n{lines}\n"
    (skill / "SKILL.md").write_text(text, encoding="utf-8")
    return skill


def store_versions(root: Path, scratch: Path, *bodies: tuple[str, ...], info: dict | None = None) -> SkillStore:
    """A store at ``root`` holding one version of ``airline`` per entry of ``bodies`` (v1, v2, …)."""
    store = SkillStore(root)
    for index, body in enumerate(bodies, 1):
        folder = write_skill(scratch / f"stage{index}", *body)
        store.commit_version("airline", None, folder, dict(info or {}, note=f"version {index}"))
    return store


def agent_command(log: str = "harbor") -> str:
    """The fake agent as an ``--agent-cmd`` template (the interpreter running the tests)."""
    return f"{sys.executable} {FAKE_AGENT} {{task}} {{skills}} {{out}} --log {log}"


@pytest.fixture
def tasks_file(tmp_path: Path) -> Path:
    """A task list of the fake agent's tasks."""
    path = tmp_path / "tasks.txt"
    path.write_text(
        "# the fake agent's tasks\nchange-flight\ncancel-flight\n\nbaggage\nbook-flight\n", encoding="utf-8"
    )
    return path


RUN_ID = "20250101-000000-abcdef"


@pytest.fixture
def distilled(shared_traces, workdir: Path):
    """What ``distill --holdout 0.2`` on tau-bench leaves: a run folder whose trajectories.jsonl holds
    the kept runs and whose split is recorded, and two stored versions made by that run (v2 adds
    two rules on tools of the held-out failures: :data:`tests.eval.test_retro.FLIGHTS`, ``TRANSFER``)."""
    from tests.eval.test_retro import FLIGHTS, TRANSFER

    trajectories = list(ingest([shared_traces / "tau-bench"], IngestReport()))
    split = split_holdout(trajectories, 0.2)
    run = workdir / ".skillforge" / "runs" / RUN_ID  # the run folder's layout (DESIGN §4)
    run.mkdir(parents=True)
    (run / "trajectories.jsonl").write_bytes(b"".join(orjson.dumps(t.to_dict()) + b"\n" for t in split.kept))
    save_split(run, split)
    store = store_versions(
        workdir / "skills", workdir / "stage", (BASE,), (BASE, FLIGHTS, TRANSFER), info={"run": RUN_ID}
    )
    return store, split, trajectories
