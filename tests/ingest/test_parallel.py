"""``ingest --jobs N``: worker processes give the very same report, trajectories and ATIF files as
reading in one process, and a worker's crash, an error in a format module or Ctrl-C loses only
what it must."""

from __future__ import annotations

import gc
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from skillforge.ingest import codex, discover, ingest, tau_bench, workers
from skillforge.ingest.command import run_ingest
from skillforge.ingest.outcomes import load_labels
from skillforge.ingest.report import IngestReport
from tests.readiness import as_in_a_terminal, wait_until

CLI = [sys.executable, "-m", "skillforge.cli", "ingest"]


def _children_cpu() -> float:
    gc.collect()  # children an earlier test left to the garbage collector (GitPython's git processes) are reaped now
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _atif_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Use worker processes even for a few small files (a chunk per file or two)."""
    monkeypatch.setattr(workers, "MIN_POOL_BYTES", 0)
    monkeypatch.setattr(workers, "CHUNK_BYTES", 64 * 1024)


def test_cli_jobs_2_prints_and_writes_what_jobs_1_does_on_the_real_corpus(shared_traces: Path, tmp_path: Path) -> None:
    chunks = [task for task in workers._plan(discover([shared_traces]), 2) if isinstance(task, tuple)]
    assert len(chunks) >= 4  # the corpus really is spread over workers
    shown = {}
    for jobs in (1, 2):
        out = tmp_path / f"atif{jobs}"
        done = subprocess.run(
            [*CLI, str(shared_traces), "--json", "--jobs", str(jobs), "--to", "atif", str(out)],
            capture_output=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr.decode()
        shown[jobs] = done.stdout.replace(str(out).encode(), b"OUT")
    assert shown[1] == shown[2]  # the whole --json document, byte for byte
    assert _atif_files(tmp_path / "atif1") == _atif_files(tmp_path / "atif2")
    document = orjson.loads(shown[2])
    assert document["totals"]["trajectories"] == len(document["written"]) > 200
    assert len({f["format"] for f in document["files"]}) >= 8


@pytest.fixture
def duplicated(shared_traces: Path, sample_traces: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Two copies of some real logs (session ids seen twice), SWE-bench report.json files, and a
    labels file whose keys include renamed ids and conflict with a log's own verdict."""
    logs = tmp_path / "logs"
    for copy in ("a", "b"):
        shutil.copytree(shared_traces / "mini-swe-agent", logs / copy / "mini-swe-agent")
        shutil.copytree(sample_traces / "claude-code", logs / copy / "claude-code")
        shutil.copytree(shared_traces / "tau-bench", logs / copy / "tau-bench")
    labels = tmp_path / "labels.csv"
    labels.write_text(
        "session_id,outcome\n"
        "55604662-cf2a-4331-851a-ec234028f8ca,success\n"
        "55604662-cf2a-4331-851a-ec234028f8ca#2,failure\n"
        "tau-bench:gpt-4o-airline:task0:trial0#2,success\n"  # the log says failure: a warning
        "mini-swe-agent:django__django-10097#2,failure\n"  # the log has no verdict: labels beat report.json
    )
    return logs, labels


def test_duplicates_labels_and_report_json_settle_the_same_in_workers(
    duplicated: tuple[Path, Path], tmp_path: Path, small_chunks: None
) -> None:
    logs, labels = duplicated
    results, written = [], []
    for jobs in (1, 3):
        before = _children_cpu()
        result = run_ingest([logs], labels, ("atif", tmp_path / f"atif{jobs}"), jobs=jobs)
        assert (_children_cpu() > before) == (jobs > 1)  # worker processes ran only when asked
        document = result.to_dict()
        document["written"] = [Path(p).name for p in document["written"]]
        results.append(orjson.dumps(document))
        written.append(_atif_files(tmp_path / f"atif{jobs}"))
    assert results[0] == results[1]
    assert written[0] == written[1]
    document = orjson.loads(results[1])
    messages = [p["message"] for p in document["problems"]]
    assert sum("renamed with #2" in m for m in messages) == document["totals"]["trajectories"] // 2
    assert any("labels say success, the log says failure" in m for m in messages)
    outcome = {
        name: orjson.loads(data)["extra"]["skillforge"]["outcome"]
        for name, data in written[1].items()
        if name.startswith(("55604662", "mini-swe-agent_django__django-10097"))
    }
    assert outcome["55604662-cf2a-4331-851a-ec234028f8ca.json"]["status"] == "success"
    assert outcome["55604662-cf2a-4331-851a-ec234028f8ca_2.json"]["status"] == "failure"
    assert outcome["mini-swe-agent_django__django-10097.json"]["detail"].startswith("SWE-bench report.json")
    assert outcome["mini-swe-agent_django__django-10097_2.json"]["origin"] == "labels"
    assert outcome["mini-swe-agent_django__django-10097_2.json"]["status"] == "failure"


@pytest.mark.parametrize("stream_bytes", [workers.STREAM_BYTES, 1024 * 1024])
def test_trajectories_from_workers_equal_those_read_here(
    duplicated: tuple[Path, Path], small_chunks: None, stream_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whole trajectories, in order; also when the big files (here the tau-bench ones, at 1 MB)
    are streamed in this process in their turn, between chunks read by workers."""
    logs, labels = duplicated
    monkeypatch.setattr(workers, "STREAM_BYTES", stream_bytes)
    tasks = workers._plan(discover([logs]), 2)
    assert any(isinstance(task, tuple) for task in tasks)
    assert any(isinstance(task, Path) for task in tasks) == (stream_bytes == 1024 * 1024)
    read = []
    for jobs in (1, 2):
        report = IngestReport()
        trajectories = [t.to_dict() for t in ingest([logs], report, load_labels(labels), jobs=jobs)]
        read.append((orjson.dumps(trajectories), report))
    assert read[0][0] == read[1][0]
    assert read[0][1] == read[1][1]
    light = list(ingest([logs], IngestReport(), jobs=2, whole=False))
    assert [t.session_id for t in light] == [t["session_id"] for t in orjson.loads(read[0][0])]
    assert all(t.steps == [] for t in light)


def test_events_sent_back_by_workers_are_the_events_read(shared_traces: Path) -> None:
    """What a worker sends back (pickled: a light trajectory's parts as plain values) unpickles to
    the events it read, for every real file and every way of keeping trajectories; a light
    trajectory takes less than three quarters of the bytes it took pickled as objects."""
    import copyreg
    import io
    import pickle

    from skillforge.ingest.reader import Parsed, read_file

    parsed = 0
    for keep in ("light", "whole", "atif"):
        for path in discover([shared_traces]):
            events = list(read_file(path, keep))
            assert pickle.loads(pickle.dumps(events, pickle.HIGHEST_PROTOCOL)) == events, (keep, path)
            parsed += sum(type(event) is Parsed for event in events)
    assert parsed > 3 * 200
    light = [e for e in read_file(shared_traces / "tau-bench" / "gpt-4o-airline.json", "light") if type(e) is Parsed]
    sizes = []
    for table in (copyreg.dispatch_table, {Parsed: lambda p: (Parsed, tuple(vars(p).values()))}):
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = table  # the second: Parsed and its trajectory pickled as objects
        pickler.dump(light)
        sizes.append(len(buffer.getvalue()))
    assert sizes[0] < 3 / 4 * sizes[1]


def _sessions_and_reports(logs: Path) -> list[tuple[list[str], IngestReport]]:
    """The session ids read and the report, with ``--jobs 1`` and with ``--jobs 2``."""
    results = []
    for jobs in (1, 2):
        report = IngestReport()
        results.append(([t.session_id for t in ingest([logs], report, jobs=jobs)], report))
    return results


def _one_bad_folder(sample_traces: Path, tmp_path: Path) -> Path:
    """The sample logs beside a truncated log, binary bytes, wrong types and an unknown format."""
    folder = tmp_path / "logs"
    shutil.copytree(sample_traces, folder / "z_samples")
    good = (sample_traces / "claude-code" / "short.jsonl").read_bytes()
    bad = {
        "b_truncated.jsonl": good[: len(good) // 2],
        "c_binary.jsonl": bytes(range(256)) * 100,
        "d_wrong_types.json": orjson.dumps([{"task_id": 1, "reward": "x", "traj": {"role": 5}}]),
        "e_unknown.json": b'{"what": "not a log"}',
    }
    for name, data in bad.items():
        (folder / name).write_bytes(data)
    return folder


def test_bad_files_are_reported_with_file_and_line_from_workers(
    sample_traces: Path, tmp_path: Path, small_chunks: None
) -> None:
    folder = _one_bad_folder(sample_traces, tmp_path)
    reports = _sessions_and_reports(folder)
    assert reports[0] == reports[1]
    report = reports[1][1]
    by_file = {Path(p.path).name: p for p in report.problems}
    assert by_file["b_truncated.jsonl"].line is not None
    assert by_file["d_wrong_types.json"].line == 0
    assert "not a known agent log format" in by_file["e_unknown.json"].message


FORKED = pytest.mark.skipif(
    sys.platform != "linux", reason="workers are forked (and so see a monkeypatched format) on Linux only"
)


@FORKED
def test_an_error_in_a_format_module_loses_only_the_rest_of_its_file(
    shared_traces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: None
) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(shared_traces / "tau-bench", logs / "tau")
    shutil.copytree(shared_traces / "codex", logs / "codex")
    parse = tau_bench.parse

    def failing(path, report):
        for number, trajectory in enumerate(parse(path, report)):
            if number == 3 and "airline" in path.name:
                raise ValueError("a bug in the format module")
            yield trajectory

    monkeypatch.setattr(tau_bench, "parse", failing)
    results = _sessions_and_reports(logs)
    assert results[0] == results[1]
    sessions, report = results[1]
    [problem] = [p for p in report.problems if "airline" in p.path]
    assert problem.message == "could not read the rest of the file (ValueError: a bug in the format module); skipped"
    airline = next(f for f in report.files if "airline" in f.path)
    assert airline.trajectories == 3  # what came before the error is kept
    assert {f.format for f in report.files if f.trajectories} == {"tau-bench", "codex"}


def test_files_read_here_are_parsed_with_the_cyclic_collector_paused(
    shared_traces: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read in this process (--jobs 1), a file is parsed with the collector paused, which is running
    again whenever a trajectory is handed on, and after the last."""
    parse = tau_bench.parse
    while_parsing: list[bool] = []

    def watched(path, report):
        for trajectory in parse(path, report):
            while_parsing.append(gc.isenabled())
            yield trajectory

    monkeypatch.setattr(tau_bench, "parse", watched)
    assert gc.isenabled()
    handed_on = [gc.isenabled() for _ in ingest([shared_traces / "tau-bench"], IngestReport(), jobs=1)]
    assert while_parsing and not any(while_parsing)
    assert handed_on and all(handed_on) and gc.isenabled()


@FORKED
def test_results_from_workers_are_settled_with_the_collector_paused(
    duplicated: tuple[Path, Path], small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --jobs 2 the results the workers send are unpickled and settled with the collector
    paused; it runs again whenever a trajectory is handed on, and after the last."""
    from skillforge import ingest as ingest_module

    settle = ingest_module._Merge._settle
    while_settling: list[bool] = []

    def watched(self, parsed, summary):
        while_settling.append(gc.isenabled())
        return settle(self, parsed, summary)

    monkeypatch.setattr(ingest_module._Merge, "_settle", watched)
    handed_on = [gc.isenabled() for _ in ingest([duplicated[0]], IngestReport(), jobs=2)]
    assert while_settling and not any(while_settling)
    assert handed_on and all(handed_on) and gc.isenabled()


@FORKED
def test_workers_keep_the_collector_paused_with_their_inherited_heap_frozen() -> None:
    """A worker runs with the collector off and the parent's objects frozen (out of its sight)."""
    with workers._executor(1) as executor:
        enabled = executor.submit(gc.isenabled).result()
        frozen = executor.submit(gc.get_freeze_count).result()
    assert enabled is False and frozen > 1000


def test_a_chunk_collects_the_cycles_an_earlier_chunk_left(
    shared_traces: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers never run the collector on their own: a reference cycle a chunk leaves (here, one a
    format module makes before it fails) is collected when the next chunk starts, so a worker's
    memory does not grow over a long run."""
    parse = tau_bench.parse

    def leaves_a_cycle(path, report):
        loop: list = []
        loop.append(loop)
        yield from parse(path, report)
        raise ValueError("broken after its trajectories")

    monkeypatch.setattr(tau_bench, "parse", leaves_a_cycle)
    files = tuple(sorted((shared_traces / "tau-bench").rglob("*.json")))[:1]
    stops: list[dict] = []

    def watch(phase: str, info: dict) -> None:
        if phase == "stop":
            stops.append(info)

    gc.collect()
    gc.disable()
    gc.callbacks.append(watch)
    try:
        first = workers._read_chunk(files, "light")
        workers._read_chunk(files, "light")
    finally:
        gc.callbacks.remove(watch)
        gc.enable()
    assert any("broken after its trajectories" in getattr(event, "message", "") for event in first[0])
    assert [info["generation"] for info in stops] == [0, 0]  # one young-generation pass per chunk, no other
    assert stops[0]["collected"] == 0 and stops[1]["collected"] >= 1


def test_the_ingest_command_runs_with_the_collector_paused_and_restores_it(
    sample_traces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``skillforge ingest`` keeps no reference cycles: the collector pauses for the whole run (also
    while trajectories are handed on) and is on again after it, also when the run fails."""
    from skillforge.errors import SkillforgeError
    from skillforge.ingest import command

    note = command.IngestResult.note
    while_noting: list[bool] = []

    def watched(self, trajectory):
        while_noting.append(gc.isenabled())
        note(self, trajectory)

    monkeypatch.setattr(command.IngestResult, "note", watched)
    assert run_ingest([sample_traces], jobs=1).trajectories and gc.isenabled()
    assert while_noting and not any(while_noting)
    (tmp_path / "file").write_text("a file where the ATIF folder should go")
    with pytest.raises(SkillforgeError):
        run_ingest([sample_traces], convert=("atif", tmp_path / "file"), jobs=1)
    assert gc.isenabled()


@FORKED
def test_a_crashed_worker_loses_only_its_file(
    shared_traces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: None
) -> None:
    logs = tmp_path / "logs"
    shutil.copytree(shared_traces / "codex", logs / "codex")
    shutil.copytree(shared_traces / "tau-bench", logs / "tau")
    crasher = sorted((logs / "codex").glob("*.jsonl"))[0]
    expected = IngestReport()
    sessions = [t.session_id for t in ingest([logs], expected, jobs=1)]
    parse = codex.parse
    parent = os.getpid()

    def crashing(path, report):
        if path == crasher and os.getpid() != parent:
            os._exit(3)  # a segfault or the OOM killer, as far as the parent can tell
        yield from parse(path, report)

    monkeypatch.setattr(codex, "parse", crashing)
    report = IngestReport()
    survived = [t.session_id for t in ingest([logs], report, jobs=2)]
    [problem] = report.problems
    assert problem.path == str(crasher) and "stopped abruptly" in problem.message
    lost = next(f for f in expected.files if f.path == str(crasher)).trajectories
    assert lost > 0 and len(survived) == len(sessions) - lost
    assert [s for s in sessions if s in survived] == survived  # the rest, in order
    assert [f for f in report.files if f.path != str(crasher)] == [f for f in expected.files if f.path != str(crasher)]


_SLOW_CLI = textwrap.dedent(
    """
    import os, sys, time
    from skillforge.ingest import tau_bench
    parse = tau_bench.parse
    def slow(path, report):
        with open(os.environ["SLOW_INGEST_READY"], "a") as ready:  # the test waits for both workers' lines
            ready.write(f"{os.getpid()}\\n")
        time.sleep(120)  # a worker busy with a long file
        yield from parse(path, report)
    tau_bench.parse = slow
    from skillforge import cli
    sys.argv = ["skillforge", "ingest", *sys.argv[1:]]
    cli.main()
    """
)


@pytest.fixture
def slow_ingest(shared_traces: Path, tmp_path: Path) -> Iterator[subprocess.Popen]:
    """``skillforge ingest --jobs 2`` in its own process group (as a shell starts a command), its
    two workers started and busy for minutes; whatever is left of the group is killed afterwards.

    Ready when both workers have written their line into the readiness file from inside the file
    they read (so both are past their start-up, SIGINT handling included), not after some time."""
    logs = tmp_path / "logs"
    for copy in "abcd":
        shutil.copytree(shared_traces / "tau-bench", logs / copy)
    ready = tmp_path / "workers-ready"
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_CLI, str(logs), "--jobs", "2", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "SLOW_INGEST_READY": str(ready)},
        preexec_fn=as_in_a_terminal,
    )
    try:
        wait_until(lambda: ready.exists() and len(ready.read_text().split()) >= 2, process, "both workers were busy")
        assert set(ready.read_text().split()) <= set(_children(process.pid))
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.communicate()


def _children(pid: int) -> list[str]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += task.read_text().split()
    return found


def _group_empties(group: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_ctrl_c_stops_the_workers_at_once(slow_ingest: subprocess.Popen) -> None:
    started = time.monotonic()
    os.killpg(slow_ingest.pid, signal.SIGINT)  # what a terminal sends the whole foreground group
    _, stderr = slow_ingest.communicate(timeout=60)
    assert time.monotonic() - started < 10  # the workers' 120 s sleeps were not waited for
    assert slow_ingest.returncode == 130 and "Traceback" not in stderr.decode()
    assert _group_empties(slow_ingest.pid)


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_workers_do_not_outlive_a_killed_parent(slow_ingest: subprocess.Popen) -> None:
    slow_ingest.kill()  # no clean-up in the parent at all
    slow_ingest.communicate(timeout=60)
    assert _group_empties(slow_ingest.pid)


def test_an_atif_document_made_before_the_session_id_and_outcome_were_settled_is_restamped(sample_traces: Path) -> None:
    """What a worker wrote, restamped by the parent, is byte for byte what the settled trajectory
    gives; also when the log's own ``extra`` has a ``skillforge`` key (the slow path)."""
    from skillforge.ingest.atif import atif_document, restamp
    from skillforge.trajectory import Outcome

    trajectories = list(ingest([sample_traces], IngestReport()))
    trajectories[0].extra = {"skillforge": {"from": "the log"}, **trajectories[0].extra}
    for trajectory in trajectories:
        before = (trajectory.session_id, trajectory.outcome)
        document = atif_document(trajectory)
        trajectory.session_id = f'{trajectory.session_id} \u00e9"#2'
        trajectory.outcome = Outcome("success", 1.0, "labels", 'outcome=pass in "labels".csv')
        assert restamp(document, before, (trajectory.session_id, trajectory.outcome)) == atif_document(trajectory)
