"""Distill every folder of the real trace corpus offline and copy each stored skill folder out.

Used to check that a refactoring changes no behaviour: snapshot before, snapshot after, compare::

    python .ci/skills_snapshot.py /tmp/before        # with the old checkout's skillforge
    python .ci/skills_snapshot.py /tmp/after         # with the new one
    diff -r /tmp/before /tmp/after && echo identical

Each corpus folder (``../shared/traces/<format>``, or ``$SKILLFORGE_SHARED_TRACES``) and the bundled
``sample_traces/`` is distilled by the ``skillforge`` on PATH (or ``--skillforge PATH``) in its own
temporary working directory with the offline analyst, one-off items kept (``--min-support 1``) so
that as many code paths as possible write into the skill. Output: ``OUT/<corpus>/<skill files>``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Write the snapshot; returns the exit code (1 when a distill failed)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--skillforge", default=str(Path(sys.executable).with_name("skillforge")))
    args = parser.parse_args()
    shared = Path(os.environ.get("SKILLFORGE_SHARED_TRACES", ROOT.parent / "shared" / "traces"))
    corpora = {p.name: p for p in sorted(shared.iterdir()) if p.is_dir()} | {"sample_traces": ROOT / "sample_traces"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLFORGE_")}
    failed = 0
    for name, folder in corpora.items():
        skill = "snapshot-" + name.replace("_", "-").replace("claude", "cc")
        with tempfile.TemporaryDirectory() as work:
            done = subprocess.run(
                [args.skillforge, "distill", str(folder), "--skill", skill, "--min-support", "1", "-q"],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            stored = Path(work) / "skills" / skill
            if done.returncode != 0 or not stored.is_dir():
                print(f"{name}: distill failed (exit {done.returncode}): {done.stderr.strip()[-300:]}")
                failed += 1
                continue
            shutil.copytree(stored, args.out / name, dirs_exist_ok=True)
            print(f"{name}: {sum(1 for _ in stored.rglob('*') if _.is_file())} files")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
