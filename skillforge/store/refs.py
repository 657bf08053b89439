"""Version numbers on the command line: ``vN`` or ``N``.

(``NAME[@vN]`` references are parsed, with the name checked, by
:func:`skillforge.export.exporter.parse_ref`.)
"""

from __future__ import annotations

import re

from skillforge.errors import SkillforgeError

_VERSION = re.compile(r"^v?(?P<version>\d+)$")


def parse_version(text: str) -> int:
    """``v3`` or ``3`` → 3.

    Raises:
        SkillforgeError: anything else (``v0``, ``latest``, ``3a``).
    """
    match = _VERSION.match(text.strip())
    if not match or int(match.group("version")) < 1:
        raise SkillforgeError(f"{text!r}: expected a version like v3")
    return int(match.group("version"))
