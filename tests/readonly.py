"""Make a folder read-only for a test, also for root (who ignores permission bits).

As root the folder gets the immutable attribute (``chattr +i``, e2fsprogs: no entry can be added,
removed or renamed in it); otherwise its mode becomes 0555. Either is undone when the block ends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def read_only(folder: Path) -> Iterator[Path]:
    """Within the block nothing can be created in ``folder``; skips the test when that cannot be arranged."""
    folder = Path(folder)
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("running as root without chattr +i on this file system: cannot make a folder read-only")
        try:
            yield folder
        finally:
            subprocess.run([chattr, "-i", str(folder)], check=True)
        return
    mode = folder.stat().st_mode
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(mode)
