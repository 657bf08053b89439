"""Counted nouns for messages: ``1 trajectory``, ``2 trajectories``, ``1 file``, ``3 files``."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """``"<number> <noun>"`` with the noun in the plural unless ``number`` is 1.

    The plural is ``plural`` when given, else ``noun`` + ``s`` (a consonant + ``y`` → ``ies``).
    """
    if number == 1:
        return f"{number} {noun}"
    if plural is None:
        plural = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
    return f"{number:,} {plural}"
