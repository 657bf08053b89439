"""The interface every log format implements: :class:`Format`.

A format is one module of ``skillforge/ingest/`` (gathered in :mod:`skillforge.ingest.formats`)
with three members:

* ``NAME: str`` — registry name, also written to ``Trajectory.source.format``;
* ``detect(path: Path, head: bytes) -> bool`` — decide from the file's content (``head`` is its
  first :data:`~skillforge.ingest.sniff.HEAD_BYTES` bytes; see :mod:`skillforge.ingest.sniff`),
  never from the file name alone;
* ``parse(path: Path, report: IngestReport) -> Iterator[Trajectory]`` — yield trajectories; bad
  records are reported to ``report`` with file and line (or record index) and skipped.

What formats share lives beside this module: :mod:`.report` (problems, per-file summaries),
:mod:`.jsonio` (tolerant JSON readers), :mod:`.sniff` (what a file's head looks like),
:mod:`.coerce` (typed getters, lenient arguments, content to text) and :mod:`.steps`
(:class:`~skillforge.ingest.steps.StepBuilder`, the one place steps are folded).

Format modules keep their known values in tuples, not sets: a field of the wrong type (a list
where a string belongs) must then compare unequal instead of raising ``unhashable type``.

This mirrors pre-commit's ``pre_commit/lang_base.py`` ``Language`` protocol with one module per
language gathered in ``all_languages.py`` (DESIGN §6): adding a format is one module plus one
registry line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from skillforge.ingest.report import IngestReport
from skillforge.trajectory import Trajectory


class Format(Protocol):
    """A log format module (see the module docstring); modules satisfy it structurally."""

    NAME: str

    def detect(self, path: Path, head: bytes) -> bool:
        """True when ``path`` (whose first bytes are ``head``) is a log of this format."""
        ...

    def parse(self, path: Path, report: IngestReport) -> Iterator[Trajectory]:
        """Yield the trajectories of ``path``, reporting bad records to ``report``."""
        ...
