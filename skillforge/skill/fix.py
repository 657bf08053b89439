"""The fix call of the validate-and-fix loop: violations in, a patch of fix edits out.

After Trace2Skill's VERIFY step (``max_verification_rounds``: validate; on failure the model returns
fix patches, applied in code; stop when it passes or nothing changes), with the validator actually
run (Trace2Skill's silently skipped when its script was missing). Each round's reply is saved as
``fix_round_N.json`` keyed by the violations and files, so a rerun reuses it.
"""

from __future__ import annotations

from typing import Any

from skillforge.llm import BudgetExceeded
from skillforge.patch import Patch, patch_schema
from skillforge.prompts import prompt_template, skill_files
from skillforge.run import RunFolder, digest
from skillforge.skill.document import SkillDoc
from skillforge.skill.validate import ValidationReport

TEMPLATE = "fix"


async def request_fix(doc: SkillDoc, validation: ValidationReport, *, client, run: RunFolder, round_number: int, max_rounds: int) -> tuple[Patch | None, dict[str, Any]]:
    """Ask the model for a patch fixing ``validation``'s errors.

    Returns:
        (the fix patch, or None when the call failed; usage ``{prompt_tokens, completion_tokens,
        cost_usd, calls, reused, error}``).

    Raises:
        BudgetExceeded: the call would pass the budget (nothing was sent).
    """
    violations = [str(v) for v in validation.errors]
    files = skill_files(doc)
    template = prompt_template(TEMPLATE)
    key = digest(client.settings.model, template.hash, violations, files)
    relative = f"fix_round_{round_number}.json"
    usage: dict[str, Any] = {"calls": 0, "reused": 0}
    saved = run.load_step(relative, key)
    if saved is not None:
        usage.update(saved.get("usage", {}), reused=1)
        return Patch.from_dict(saved["patch"]), usage
    messages = template.messages(violations=violations, files=files, round=round_number, max_rounds=max_rounds)
    try:
        completion = await client.complete_json(messages, patch_schema(), schema_name="patch", template_hash=template.hash)
    except BudgetExceeded:
        raise
    except Exception as exc:  # LLMError: the round ends without a fix
        return None, {**usage, "calls": 1, "error": f"{type(exc).__name__}: {exc}"}
    usage.update(prompt_tokens=completion.prompt_tokens, completion_tokens=completion.completion_tokens, cost_usd=completion.cost_usd, calls=1)
    patch = Patch.from_dict(completion.data)
    run.save_step(relative, {"key": key, "status": "done", "usage": {k: usage[k] for k in ("prompt_tokens", "completion_tokens", "cost_usd")}, "patch": patch.to_dict()})
    return patch, usage
