"""The fix call of the validate-and-fix loop: violations in, a patch of fix edits out.

After Trace2Skill's VERIFY step (``max_verification_rounds``: validate; on failure the model returns
fix patches, applied in code; stop when it passes or nothing changes), with the validator actually
run (Trace2Skill's silently skipped when its script was missing). Each round's reply is saved as
``fix_round_N.json`` keyed by the violations and files, so a rerun reuses it.
"""

from __future__ import annotations

from skillforge.llm.steps import StepJournal, StepReply, cached_step, digest
from skillforge.patch import Patch, patch_schema
from skillforge.prompts import prompt_template, skill_files
from skillforge.skill.document import SkillDoc
from skillforge.skill.validate import ValidationReport

TEMPLATE = "fix"


async def request_fix(doc: SkillDoc, validation: ValidationReport, *, client, run: StepJournal, round_number: int, max_rounds: int) -> tuple[Patch | None, StepReply]:
    """Ask the model for a patch fixing ``validation``'s errors.

    Returns:
        (the fix patch, or None when the call failed; the :class:`~skillforge.llm.steps.StepReply`
        of the call: status, usage, error).

    Raises:
        BudgetExceeded: the call would pass the budget (nothing was sent).
    """
    violations = [str(v) for v in validation.errors]
    files = skill_files(doc)
    template = prompt_template(TEMPLATE)
    key = digest(client.settings.model, template.hash, violations, files)
    relative = f"fix_round_{round_number}.json"
    reply = await cached_step(
        run, relative, key, client,
        lambda: template.messages(violations=violations, files=files, round=round_number, max_rounds=max_rounds),
        patch_schema(), schema_name="patch", template_hash=template.hash,
    )  # fmt: skip
    return (None if reply.status == "failed" else Patch.from_dict(reply.data)), reply
