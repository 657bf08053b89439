"""Per-call latency and tokens of LLMClient.complete_json against the real local model.

Starts llama-cpp-python's server (tests/local_model.py: cached build and model) with the CI
settings (n_ctx 4096, 2 threads) and prints, per call: seconds, prompt and completion tokens,
completion tokens per second, the structured-output request used. Run from the repository root:

    .venv/bin/python bench/local_model_calls.py [--calls N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skillforge.llm.backends import structured_output_format  # noqa: E402
from skillforge.llm.client import LLMClient  # noqa: E402
from skillforge.llm.types import LLMSettings  # noqa: E402
from tests.local_model import LlamaServer, prepare  # noqa: E402
from tests.test_local_model import MESSAGES, _lessons_schema  # noqa: E402

TINY = {"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=400)
    args = parser.parse_args()
    started = time.monotonic()
    prepared = prepare(log=print)
    print(f"prepare: {time.monotonic() - started:.1f} s {prepared.seconds or '(cached)'}")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        with LlamaServer(prepared, Path(tmp) / "server.log") as server:
            print(f"server ready in {time.monotonic() - started:.1f} s at {server.api_base}")
            client = LLMClient(LLMSettings(model="openai/local", api_base=server.api_base, max_tokens=args.max_tokens, timeout_s=600), concurrency=1)
            rows = [("tiny (first call)", [{"role": "user", "content": "Is 2 > 1? Answer as JSON."}], TINY)]
            rows += [(f"lessons #{i + 1}", MESSAGES, _lessons_schema()) for i in range(args.calls)]
            for label, messages, schema in rows:
                request = structured_output_format("openai/local", schema, "x", api_base=server.api_base)
                t0 = time.monotonic()
                result = asyncio.run(client.complete_json(messages, schema))
                dt = time.monotonic() - t0
                print(
                    f"{label:18s} {dt:6.1f} s  prompt {result.prompt_tokens:5d} tok  completion {result.completion_tokens:4d} tok"
                    f"  {result.completion_tokens / dt:5.1f} tok/s  attempts {result.attempts}  request {request['type'] if request else None}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
