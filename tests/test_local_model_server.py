"""The local-model harness itself (tests/local_model.py), without building or running the real server:
the wheel and server venv are cached per CPU feature set, and a server that dies is reported as
"the local model server crashed (exit N)" with its log tail, fast, not as connection errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from tests import local_model
from tests.local_model import LlamaServer, Prepared, ServerCrashed

CPUINFO = """processor\t: 0
model name\t: AMD EPYC 9654 96-Core Processor
cpu MHz\t\t: 2396.398
flags\t\t: fpu vme sse sse2 avx avx2 avx512f avx512bw
processor\t: 1
model name\t: AMD EPYC 9654 96-Core Processor
cpu MHz\t\t: 3700.000
flags\t\t: fpu vme sse sse2 avx avx2 avx512f avx512bw
"""


def test_the_cpu_tag_follows_the_feature_flags_and_the_model_only() -> None:
    tag = local_model._cpu_tag(CPUINFO, "x86_64")
    assert len(tag) == 12 and int(tag, 16) >= 0
    assert local_model._cpu_tag(CPUINFO.replace("2396.398", "1500.000"), "x86_64") == tag  # the clock is not a feature
    assert local_model._cpu_tag(CPUINFO.replace(" avx512f avx512bw", ""), "x86_64") != tag  # a CPU without AVX-512
    assert local_model._cpu_tag(CPUINFO.replace("9654", "7763"), "x86_64") != tag
    assert local_model._cpu_tag(CPUINFO, "aarch64") != tag


class _Build(Exception):
    """Raised instead of running pip: the harness decided to build a wheel."""


def test_a_server_built_for_another_cpu_is_not_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    version = local_model.LLAMA_CPP_VERSION
    built = tmp_path / f"llama-server-{version}-aaaaaaaaaaaa"  # the cache of a machine with another CPU
    (built / "bin").mkdir(parents=True)
    (built / "bin" / "python").touch()
    (built / ".ready").touch()
    (tmp_path / "wheels" / "aaaaaaaaaaaa").mkdir(parents=True)
    (tmp_path / "wheels" / "aaaaaaaaaaaa" / f"llama_cpp_python-{version}-cp311-cp311-linux_x86_64.whl").touch()
    commands: list[list[str]] = []

    def run(command: list[str], what: str, env=None) -> None:
        commands.append(command)
        raise _Build(what)

    monkeypatch.setattr(local_model, "_run", run)
    monkeypatch.setattr(local_model, "_cpu_tag", lambda: "aaaaaaaaaaaa")
    assert local_model._server_python(tmp_path, {}, print) == built / "bin" / "python" and commands == []
    monkeypatch.setattr(local_model, "_cpu_tag", lambda: "bbbbbbbbbbbb")
    with pytest.raises(_Build, match="building llama-cpp-python"):
        local_model._server_python(tmp_path, {}, print)
    assert commands[0][2:4] == ["pip", "wheel"] and (tmp_path / "wheels" / "bbbbbbbbbbbb").is_dir()


FAKE_SERVER = textwrap.dedent(
    """
    import http.server, os, signal, sys

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # /v1/models: ready
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"data": []}')

        def do_POST(self):  # the first completion: what a wheel built for another CPU does
            print("ggml_vec_dot_q4_K_q8_K: general protection fault in libggml-cpu.so", flush=True)
            os.kill(os.getpid(), signal.SIGSEGV)

        def log_message(self, *args):
            pass

    print("fake llama_cpp.server listening", flush=True)
    http.server.HTTPServer(("127.0.0.1", int(sys.argv[sys.argv.index("--port") + 1])), Handler).serve_forever()
    """
)

CLIENT = textwrap.dedent(
    """
    import os, sys, time, httpx
    open(sys.argv[2], "w").write(str(os.getpid()))
    while True:  # a client that retries against a dead port for ever, as a distill run would
        try:
            httpx.post(sys.argv[1] + "/chat/completions", json={"messages": []}, timeout=5)
        except httpx.HTTPError as error:
            print(f"connection error: {error}", file=sys.stderr)
        time.sleep(0.05)
    """
)


@pytest.fixture
def crashing_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A stand-in for ``python -m llama_cpp.server`` that answers /v1/models and dies with SIGSEGV
    on the first completion; started through :class:`LlamaServer` as the real one is."""
    package = tmp_path / "fake" / "llama_cpp"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "server.py").write_text(FAKE_SERVER)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "fake"))
    server = LlamaServer(Prepared(Path(sys.executable), tmp_path / "model.gguf"), tmp_path / "server.log").start()
    try:
        yield server
    finally:
        server.stop()


def test_a_server_that_dies_stops_the_command_at_once_with_its_exit_and_log(
    crashing_server: LlamaServer, tmp_path: Path
) -> None:
    pid_file = tmp_path / "client.pid"
    command = [sys.executable, "-c", CLIENT, crashing_server.api_base, str(pid_file)]
    started = time.monotonic()
    with pytest.raises(ServerCrashed) as crashed:
        crashing_server.run(command, cwd=tmp_path, env={**os.environ}, timeout=300)
    message = str(crashed.value)
    assert message.startswith("the local model server crashed (exit -11: ")
    assert "general protection fault in libggml-cpu.so" in message and "connection error" not in message
    assert time.monotonic() - started < 60  # not the 300 s of the command's timeout
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)  # the retrying client was stopped
    with pytest.raises(ServerCrashed, match="crashed"):
        crashing_server.check()


def test_a_call_in_this_process_that_kills_the_server_reports_the_crash(crashing_server: LlamaServer) -> None:
    with pytest.raises(ServerCrashed, match=r"crashed \(exit -11") as crashed, crashing_server.watching():
        httpx.post(f"{crashing_server.api_base}/chat/completions", json={"messages": []}, timeout=30)
    assert isinstance(crashed.value.__cause__, httpx.HTTPError)


def test_a_command_ends_normally_while_the_server_lives(crashing_server: LlamaServer, tmp_path: Path) -> None:
    done = crashing_server.run([sys.executable, "-c", "print('fine')"], cwd=tmp_path, timeout=60)
    assert done.returncode == 0 and done.stdout == "fine\n" and crashing_server.crash() is None
    crashing_server.stop()
    assert crashing_server.crash() is None  # stopped on purpose is not a crash
    with pytest.raises(subprocess.TimeoutExpired):
        LlamaServer.run(crashing_server, [sys.executable, "-c", "import time; time.sleep(60)"], cwd=tmp_path, timeout=1)
