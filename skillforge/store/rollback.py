"""What a rollback did: the version that now holds the restored content, or nothing stored when
that content already is the latest version's, the version number aside
(:func:`skillforge.store.compare.same_skill`).
"""

from __future__ import annotations

from dataclasses import dataclass

from skillforge.store.version_info import VersionInfo

ROLLBACK_DROPPED_INFO = ("run", "run_id", "cost_usd", "tokens", "prompt_tokens", "completion_tokens", "timings")
"""Keys of the rolled-back version's info not copied to the new version (they describe a run)."""


@dataclass
class RollbackResult(VersionInfo):
    """A rollback's outcome: the version that now holds the restored content.

    Attributes (besides :class:`~skillforge.store.version_info.VersionInfo`'s, which describe the
    new version, or the latest one when nothing was stored):
        restored: the version whose content was asked for.
        stored: False when that content already is the latest version's (nothing was stored).
    """

    restored: int = 0
    stored: bool = True

    @property
    def message(self) -> str:
        """One line saying what happened, for the command line."""
        if not self.stored:
            return (
                f"{self.name} v{self.restored} has the same content as the latest version, v{self.version}: "
                "nothing stored"
            )
        return (
            f"rolled back {self.name} to v{self.restored}: stored as v{self.version}; every earlier version stays "
            f"in history (`skillforge diff {self.name}` shows what changed)"
        )
