"""The README's "What comes out" section is the SKILL.md of README command 1, unedited.

README command 1 is ``skillforge distill sample_traces/`` without a model (the offline analyst). This
test runs it again, from an empty folder, and compares the SKILL.md it stores with the README's
``markdown`` block byte for byte, and the command's last line with the README's ``text`` block (only
the run id, which holds the clock, may differ). A change to the offline analyst that changes the
skill fails here until the README shows the new output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

RUN_ID = re.compile(r"run \d{8}-\d{6}-[0-9a-f]{6}\)")


def _readme_blocks() -> tuple[str, str]:
    """The SKILL.md block and the last-line block of the README's "What comes out" section."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## What comes out\n", 1)[-1]
    skill = re.match(r".*?```markdown\n(.*?)```", section, re.DOTALL)
    last = re.match(r".*?```text\n(.*?)\n```", section[skill.end() :], re.DOTALL) if skill else None
    assert skill and last, "the README's 'What comes out' section lost its markdown or text block"
    return skill.group(1), last.group(1)


def test_readme_shows_the_skill_of_command_1_as_it_comes_out(sample_traces: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLFORGE_")} | {"COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "skillforge.cli", "distill", str(sample_traces)],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    skill, last = _readme_blocks()
    assert (tmp_path / "skills" / "sample-traces" / "SKILL.md").read_text(encoding="utf-8") == skill
    printed = done.stdout.strip().splitlines()[-1]
    assert RUN_ID.sub("run RUN)", printed) == RUN_ID.sub("run RUN)", last)
