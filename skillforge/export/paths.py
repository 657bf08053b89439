"""Path safety: nothing taken from a skill, a bundle or a command line may escape its destination.

Checked here: skill names (:func:`skillforge.skill.frontmatter.name_problems`, the one name check:
lowercase letters, digits and single hyphens, at most 64 characters — so no ``/``, ``..`` or
absolute form can pass — and no reserved word), relative paths (no absolute path, drive, ``..`` or empty part), and
targets on disk (every existing parent, symbolic links included, must resolve inside the
destination root; the target itself must not be a symbolic link).
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

from skillforge.errors import SkillforgeError
from skillforge.skill.frontmatter import name_problems


def check_name(name: str) -> str:
    """Return ``name`` when it is a valid skill name.

    Raises:
        SkillforgeError: when it is not (this also rules out ``..``, ``/`` and absolute paths).
    """
    problems = name_problems(name)
    if problems:
        raise SkillforgeError(f"{name!r} is not a valid skill name: {'; '.join(problems)}")
    return name


def check_relative(path: str) -> PurePosixPath:
    """Parse a relative POSIX path that must stay inside the folder it is relative to.

    Args:
        path: e.g. ``references/x.md``; a zip entry name or a planned output path.

    Returns:
        The parsed path.

    Raises:
        SkillforgeError: empty, absolute (``/x``, ``C:\\x``, ``\\\\server``), containing ``..``,
            a backslash or a NUL character.
    """
    if not path or "\x00" in path or "\\" in path:
        raise SkillforgeError(f"unsafe path {path!r}: empty, or holds a backslash or NUL")
    pure = PurePosixPath(path)
    if pure.is_absolute() or PureWindowsPath(path).drive:
        raise SkillforgeError(f"unsafe path {path!r}: absolute paths are not allowed")
    if any(part == ".." for part in pure.parts):
        raise SkillforgeError(f"unsafe path {path!r}: '..' is not allowed")
    if not pure.parts or pure.parts == (".",):
        raise SkillforgeError(f"unsafe path {path!r}: names no file")
    return pure


def safe_target(root: Path, relative: str) -> Path:
    """The on-disk path of ``relative`` under ``root``, checked to stay inside ``root``.

    Args:
        root: the destination root (project folder, home folder or ``--dest``).
        relative: a planned output path (POSIX, relative).

    Returns:
        ``root / relative``.

    Raises:
        SkillforgeError: ``relative`` is unsafe (see :func:`check_relative`), an existing parent
            is a symbolic link resolving outside ``root``, or the target is a symbolic link.
    """
    target = root / check_relative(relative)
    real_root = os.path.realpath(root)
    real_target = os.path.realpath(target)
    if os.path.commonpath([real_root, real_target]) != real_root or real_target == real_root:
        raise SkillforgeError(f"{target}: resolves to {real_target}, outside {root} (a symbolic link on the way points out); refusing to write")
    if target.is_symlink():
        raise SkillforgeError(f"{target}: is a symbolic link; refusing to write through it")
    return target
