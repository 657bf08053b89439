"""Read log files in worker processes (``skillforge ingest --jobs N``), results in file order.

Each worker runs :func:`skillforge.ingest.reader.read_file` (detect, parse, redact, count) on a
chunk of files and sends back their events; :func:`read_files` hands them on file by file, in
the order of the list, so that ``ingest()`` settles session ids and outcomes exactly as when it
reads the files itself. Built on the standard library's :class:`~concurrent.futures.ProcessPoolExecutor`.

* **Bounded.** At most :data:`CHUNKS_PER_WORKER` chunks per worker are submitted ahead; a file
  larger than :data:`STREAM_BYTES` is read in this process, streamed, in its turn (its results
  would otherwise have to be held whole), so memory does not grow with the input.
* **Start-up.** On Linux workers are forked after the secret detectors are compiled, so they
  start with everything loaded: two are up in about 20 ms (spawned, the platform's default
  elsewhere, they take about 0.5 s to import and compile before their first file).
* **Crashes.** A worker that dies (a segfault, the OOM killer) breaks the pool: a new one takes the
  chunks still queued, and the files of the broken chunk are read again one by one, each in a
  process of its own; the file that kills its process again is reported and skipped.
* **Ctrl-C.** Workers ignore SIGINT; the interrupted parent (or one whose caller stops reading
  early) terminates them, reaps them and re-raises. Workers also get SIGTERM when the parent
  dies without cleaning up (Linux ``PR_SET_PDEATHSIG``), so none is left behind
  (:func:`skillforge.processes.worker_pool`).
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from skillforge.ingest.reader import Event, Keep, failure_message, read_file, without_gc
from skillforge.ingest.report import FileSummary, IngestReport
from skillforge.processes import usable_cpus, worker_pool

MAX_DEFAULT_JOBS = 8
"""The default ``--jobs`` is the number of usable CPUs, at most this."""

STREAM_BYTES = 32 * 1024 * 1024
"""A file larger than this is read in this process, streamed, instead of in a worker."""

CHUNK_BYTES = 8 * 1024 * 1024
"""Files go to workers in chunks of about this many bytes (fewer round trips for small files)."""

CHUNK_FILES = 64
"""At most this many files per chunk."""

CHUNKS_PER_WORKER = 2
"""Chunks submitted ahead per worker: one running, one waiting."""

MIN_POOL_BYTES = 1024 * 1024
"""Below this many bytes in all, files are read in this process (starting workers costs more)."""

FAST_GATES_MIN_BYTES = 64 * 1024 * 1024
"""From this many bytes in all, the secret gates run with Hyperscan when it is installed
(:mod:`skillforge.secret_scan.hyperscan_gates`): about 5 ms less CPU per 10 MB of logs, for a database
compiled once (about 80 ms; later runs read it from the user's cache folder); so does detection's
:func:`~skillforge.ingest.sniff.mentions` (:func:`~skillforge.ingest.sniff.use_fast_mentions`)."""


def default_jobs() -> int:
    """The number of CPUs this process may run on, at most :data:`MAX_DEFAULT_JOBS`."""
    return usable_cpus(MAX_DEFAULT_JOBS)


def read_files(paths: Sequence[Path], jobs: int, keep: Keep = "whole") -> Iterator[Iterable[Event]]:
    """For each of ``paths`` in order, the events :func:`~skillforge.ingest.reader.read_file`
    yields for it, read by up to ``jobs`` worker processes.

    Read each file's events before asking for the next file (a big file's are streamed).
    With ``jobs`` ≤ 1, a single chunk of work, or under :data:`MIN_POOL_BYTES` in all, no process
    is started. Nothing is raised for a file: a worker's crash or error becomes the file's problem.

    Args:
        paths: files (from :func:`~skillforge.ingest.reader.discover`).
        jobs: most worker processes.
        keep: what ``read_file`` keeps of each trajectory.
    """
    sizes = _sizes(paths)
    tasks = _plan(paths, jobs, sizes)
    chunks = sum(1 for task in tasks if isinstance(task, tuple))
    if jobs <= 1 or chunks < 2:
        for path in paths:
            yield without_gc(read_file(path, keep))
        return
    from skillforge.ingest.sniff import use_fast_mentions
    from skillforge.secret_scan.detectors import load_detectors, use_fast_gates
    from skillforge.secret_scan.hyperscan_gates import cache_folder

    if sum(size for size in sizes if size > 0) >= FAST_GATES_MIN_BYTES:
        use_fast_gates(cache_folder())
        use_fast_mentions()
    load_detectors()  # compiled once here, inherited by forked workers
    pool = _Pool(min(jobs, chunks), keep)
    done = False
    try:
        yield from pool.run(tasks)
        done = True
    finally:  # Ctrl-C, an error, or a caller that stops early: the workers are stopped at once
        pool.close(stop=not done)


def _sizes(paths: Sequence[Path]) -> list[int]:
    """The size of each file in bytes, -1 for one ``stat`` cannot read."""
    sizes = []
    for path in paths:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            sizes.append(-1)
    return sizes


def _plan(paths: Sequence[Path], jobs: int, sizes: list[int] | None = None) -> list[Path | tuple[Path, ...]]:
    """Group ``paths`` in order into chunks for the workers (tuples) and files to stream here (a
    Path: larger than :data:`STREAM_BYTES`, or unreadable for ``stat``); ``sizes``: theirs, as
    :func:`_sizes` gives them (read here when None)."""
    if sizes is None:
        sizes = _sizes(paths)
    total = sum(size for size in sizes if size > 0)
    if total < MIN_POOL_BYTES:
        return list(paths)
    # small inputs still make a few chunks per worker, so that every worker has some
    target = max(64 * 1024, min(CHUNK_BYTES, total // (max(1, jobs) * 4)))
    tasks: list[Path | tuple[Path, ...]] = []
    chunk: list[Path] = []
    chunk_bytes = 0
    for path, size in zip(paths, sizes):
        if size < 0 or size > STREAM_BYTES:
            if chunk:
                tasks.append(tuple(chunk))
                chunk, chunk_bytes = [], 0
            tasks.append(path)
            continue
        chunk.append(path)
        chunk_bytes += size
        if chunk_bytes >= target or len(chunk) >= CHUNK_FILES:
            tasks.append(tuple(chunk))
            chunk, chunk_bytes = [], 0
    if chunk:
        tasks.append(tuple(chunk))
    return tasks


class _Pool:
    """A process pool fed in order, a bounded number of chunks ahead, that survives a dead worker."""

    def __init__(self, jobs: int, keep: Keep) -> None:
        self.jobs = jobs
        self.keep = keep
        self.executor = _executor(jobs)
        self.queue: deque[list] = deque()  # [task, future or None], in file order

    def run(self, tasks: list[Path | tuple[Path, ...]]) -> Iterator[Iterable[Event]]:
        waiting = iter(tasks)
        in_flight = 0
        limit = self.jobs * CHUNKS_PER_WORKER
        while True:
            while in_flight < limit:  # keep the workers busy, a bounded number of chunks ahead
                task = next(waiting, None)
                if task is None:
                    break
                if isinstance(task, tuple):
                    self.queue.append([task, self._submit(task)])
                    in_flight += 1
                else:
                    self.queue.append([task, None])
            if not self.queue:
                return
            task, future = self.queue.popleft()
            if future is None:  # a large file, streamed here
                yield without_gc(read_file(task, self.keep))
                continue
            in_flight -= 1
            yield from self._results(task, future)

    def _results(self, task: tuple[Path, ...], future: Future) -> list[list[Event]]:
        try:
            return future.result()
        except BrokenProcessPool:
            self._replace()
        except Exception:  # pylint: disable=broad-except  # e.g. a result that cannot be sent back
            pass
        return [_alone(path, self.keep) for path in task]

    def close(self, stop: bool) -> None:
        """Shut the pool down; ``stop``: terminate the workers instead of letting them finish."""
        if stop:
            _terminate(self.executor)
        else:
            self.executor.shutdown(wait=True)

    def _submit(self, task: tuple[Path, ...]) -> Future:
        try:
            return self.executor.submit(_read_chunk, task, self.keep)
        except BrokenProcessPool:  # a worker died since the last look
            self._replace()
            return self.executor.submit(_read_chunk, task, self.keep)

    def _replace(self) -> None:
        """A worker died and took the pool with it: a new pool redoes the chunks it had."""
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.executor = _executor(self.jobs)
        for entry in self.queue:
            task, future = entry
            if future is not None and not (future.done() and not future.cancelled() and future.exception() is None):
                entry[1] = self.executor.submit(_read_chunk, task, self.keep)


def _alone(path: Path, keep: Keep) -> list[Event]:
    """Read one file in a process of its own; a crash or error there is the file's problem."""
    with _executor(1) as executor:
        try:
            return executor.submit(_read_chunk, (path,), keep).result()[0]
        except BrokenProcessPool:
            message = "the process reading this file stopped abruptly (a crash, or out of memory); file skipped"
        except Exception as exc:  # pylint: disable=broad-except
            message = failure_message(exc)
    report = IngestReport()
    report.problem(path, None, message)
    return [FileSummary(str(path), None, skipped="unreadable"), *report.problems]


def _terminate(executor: ProcessPoolExecutor) -> None:
    """Stop ``executor``'s workers now (SIGTERM) and reap them."""
    if hasattr(executor, "terminate_workers"):  # Python 3.14+
        executor.terminate_workers()
        return
    processes = list((getattr(executor, "_processes", None) or {}).values())
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()
    # then wait for the pool's manager thread to see them gone (on Python 3.11, one still closing
    # the broken pool at interpreter exit races its atexit hook: OSError, Bad file descriptor)
    executor.shutdown(wait=True, cancel_futures=True)


def _executor(jobs: int) -> ProcessPoolExecutor:
    # fork: two workers are up in about 20 ms with the parent's modules and compiled detectors;
    # spawn takes about 0.5 s before the first file (imports, detectors compiled in each)
    return worker_pool(jobs, initializer=_start_worker)


def _start_worker() -> None:
    """A worker's set-up: the cyclic garbage collector paused for the worker's life, and what the
    worker starts with (the parent's modules and compiled detectors, inherited by a fork) moved
    out of its sight (``gc.freeze``), so that :func:`_read_chunk`'s collection looks only at what
    the worker made since."""
    gc.disable()
    gc.freeze()


def _read_chunk(paths: tuple[Path, ...], keep: Keep) -> list[list[Event]]:
    """Read a chunk of files in a worker (collector paused: :func:`_start_worker`).

    Parsed logs hold no reference cycles (reference counting frees them): the collector's passes
    over the many objects a parse makes cost about 9 % of ingest's CPU, and, turned on between
    chunks, its passes over each chunk's results and the worker's heap still cost ~2 % (about
    100 ms per worker per gigabyte, 0.5 ms per young pass and a 40 ms full one). Instead, each
    chunk starts with one pass over the young generation (~0.1 ms), once the previous chunk's
    results are gone: it frees any reference cycle an earlier chunk left (none on the corpus,
    the wild files or broken files, after the first chunk's imports; a format module could make
    one), so a worker's memory stays flat over a long run.
    """
    gc.collect(0)
    return [list(read_file(path, keep)) for path in paths]
