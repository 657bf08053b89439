"""Version references on the command line: ``NAME``, ``NAME@vN`` or ``NAME@N``, and ``vN``."""

from __future__ import annotations

import re

from skillforge.errors import SkillforgeError

_REF = re.compile(r"^(?P<name>[^@\s]+)(?:@v?(?P<version>\d+))?$")
_VERSION = re.compile(r"^v?(?P<version>\d+)$")


def parse_ref(ref: str) -> tuple[str, int | None]:
    """Split ``NAME[@vN]`` (``airline``, ``airline@v3``, ``airline@3``) into (name, version or None).

    Raises:
        SkillforgeError: a malformed reference.
    """
    match = _REF.match(ref.strip())
    if not match:
        raise SkillforgeError(f"{ref!r}: expected NAME or NAME@vN")
    version = match.group("version")
    return match.group("name"), int(version) if version else None


def parse_version(text: str) -> int:
    """``v3`` or ``3`` → 3.

    Raises:
        SkillforgeError: anything else.
    """
    match = _VERSION.match(text.strip())
    if not match or int(match.group("version")) < 1:
        raise SkillforgeError(f"{text!r}: expected a version like v3")
    return int(match.group("version"))
