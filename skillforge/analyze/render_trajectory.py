"""Render a trajectory as prompt text that fits a token budget.

A trajectory rarely fits a model's context as it is. The text made here keeps what an analyst
needs to cite evidence and drops the rest, in this order until it fits ``budget_tokens``:

1. always: every step is headed ``### step <id> · <source>`` so lessons can cite step ids; base64
   payloads (``data:…;base64,…`` and long base64 runs) become :data:`BASE64_MARK`; a block
   (message, reasoning, arguments, result) of :data:`REPEAT_MIN_CHARS`+ characters seen before
   (in this trajectory or, through ``seen``, in one rendered earlier in the same prompt) becomes
   ``[same as … step N]``;
2. long blocks are cut to a limit that shrinks along :data:`CUT_LADDER` (characters), keeping
   the head (two thirds) and the tail (one third) around ``[… N characters cut …]``; error results
   are kept whole;
3. still too long: whole steps are omitted from the middle outwards (steps with errors last),
   marked ``[steps a–b omitted to fit the token budget]``;
4. still too long: error results are cut too, to :data:`ERROR_CUT_CHARS`.

Tokens are counted with the callable given (``skillforge.llm.tokens.count_tokens`` for the model, i.e.
``litellm.token_counter``), per step, and summed. When the whole text, uncut, has no more UTF-8
bytes than the budget has tokens, it fits whatever the tokenizer (a token is at least one byte in
byte-level BPE, the tokenizers litellm counts with): it is then counted once, whole, instead of
step by step. The raw size reported beside the rendered size is the token count of the
trajectory's ATIF JSON (:meth:`Trajectory.to_atif`), counted only when asked for.

Text shown is verbatim from the trajectory (arguments as canonical JSON, as
:meth:`Step.text` has them), so a quote copied from the prompt passes the grounding check, unless
it spans a cut marker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
import re2

from skillforge.analyze.signals import canonical_arguments
from skillforge.trajectory import Trajectory

CUT_LADDER = (None, 6000, 3000, 1500, 800, 400, 200)
"""Per-block character limits tried in turn (None: no cut)."""

ERROR_CUT_CHARS = 1200
"""Limit for error results in the last resort (step 4)."""

REPEAT_MIN_CHARS = 200
"""Blocks at least this long are replaced by a back-reference when repeated verbatim."""

BASE64_MARK = "[base64 data dropped]"
_BASE64 = re2.compile(r"data:[A-Za-z0-9_.+-]+/[A-Za-z0-9_.+-]+;base64,[A-Za-z0-9+/=]+|[A-Za-z0-9+/]{200,}={0,2}")
"""A data URI with base64 content (RFC 2397; its media type is ASCII, RFC 2045), or a run of 200+
base64 characters; RE2, linear in the text (a gigabyte of logs passes through it)."""

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class LazyBudget:
    """A token budget that costs a count to know exactly.

    Attributes:
        at_least: a lower bound of the budget, known without counting (tokens).
        exact: counts the budget (tokens); called only when the whole text is larger than
            ``at_least`` has tokens, at most once per render.
    """

    at_least: int
    exact: Callable[[], int]


@dataclass
class _Block:
    text: str
    whole: bool  # error results: never cut before the last resort
    header: str = ""  # line shown before the text (e.g. "← Bash ERROR:")


@dataclass
class _StepView:
    step_id: int
    head: str
    blocks: list[_Block]
    has_error: bool


@dataclass
class RenderedTrajectory:
    """A trajectory as prompt text.

    Attributes:
        session_id: the trajectory.
        text: the rendered text.
        tokens: tokens of ``text`` (the counter's tokenizer), summed per step and omission marker
            (``in_parts``), or of the whole text when it fitted by its size alone (then counted on
            first use: a dry run's single-trajectory prompts are counted whole, never twice).
        counted: ``tokens``, or how to count them.
        in_parts: ``tokens`` is a sum of per-step counts (the text had to be fitted).
        raw_tokens: tokens of the trajectory's ATIF JSON, for comparison (counted on first use:
            a dry run never pays for it).
        cut_blocks: blocks shortened with a cut marker.
        omitted_steps: step ids left out to fit the budget.
        fits: False when even the last resort stayed above the budget.
    """

    session_id: str
    text: str
    counted: int | Callable[[], int]
    raw: Callable[[], int] = field(repr=False, compare=False, default=lambda: 0)
    in_parts: bool = False
    cut_blocks: int = 0
    omitted_steps: list[int] = field(default_factory=list)
    fits: bool = True
    _raw_tokens: int | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def tokens(self) -> int:
        """Tokens of ``text`` (see the class docstring; counted on first use when the text fitted
        by its size alone)."""
        if callable(self.counted):
            self.counted = self.counted()
        return self.counted

    @property
    def raw_tokens(self) -> int:
        """Tokens of the trajectory's ATIF JSON (see the class docstring)."""
        if self._raw_tokens is None:
            self._raw_tokens = self.raw()
        return self._raw_tokens


def render_trajectory(
    trajectory: Trajectory,
    budget_tokens: int | LazyBudget,
    count_tokens: TokenCounter,
    *,
    seen: dict[str, str] | None = None,
    label: str = "",
) -> RenderedTrajectory:
    """Render ``trajectory`` within ``budget_tokens`` (see the module docstring for the rules).

    Args:
        trajectory: the trajectory to show.
        budget_tokens: the most tokens the text may take, or a :class:`LazyBudget` (counted only
            when the text does not fit its lower bound by its size alone).
        count_tokens: text → tokens for the target model.
        seen: blocks already shown in this prompt (normalised text → where); updated. Pass the
            same dict when several trajectories go into one prompt so repeated context (e.g. the
            same system prompt) is shown once.
        label: how this trajectory is named in back-references from later trajectories.

    Returns:
        A :class:`RenderedTrajectory`.
    """
    seen = {} if seen is None else seen
    views = _views(trajectory, seen, label)
    counts: dict[tuple[int, int | None, bool], int] = {}
    by_text: dict[str, int] = {}

    def step_text(view: _StepView, limit: int | None, cut_errors: bool) -> tuple[str, int]:
        lines = [view.head]
        cut = 0
        for block in view.blocks:
            if block.header:
                lines.append(block.header)
            applied = (ERROR_CUT_CHARS if cut_errors else None) if block.whole else limit
            text, was_cut = _cut(block.text, applied)
            cut += was_cut
            if text:
                lines.append(text)
        return "\n".join(lines), cut

    def tokens_of(view: _StepView, limit: int | None, cut_errors: bool) -> int:
        key = (view.step_id, limit, cut_errors)
        if key not in counts:
            text = step_text(view, limit, cut_errors)[0]
            # a step with no block over the limit reads the same at every rung of the ladder
            if text not in by_text:
                by_text[text] = count_tokens(text + "\n\n")
            counts[key] = by_text[text]
        return counts[key]

    whole = "\n\n".join(step_text(view, None, False)[0] for view in views)
    size = len(whole.encode("utf-8", "surrogatepass"))
    if isinstance(budget_tokens, LazyBudget):
        budget_tokens = budget_tokens.exact() if size > budget_tokens.at_least else budget_tokens.at_least
    if size <= budget_tokens:  # fits by its size alone: one count
        return RenderedTrajectory(trajectory.session_id, whole, lambda: count_tokens(whole), lambda: raw_tokens(trajectory, count_tokens))
    limit: int | None = None
    for limit in CUT_LADDER:
        total = sum(tokens_of(v, limit, False) for v in views)
        if total <= budget_tokens:
            return _finish(trajectory, views, set(), limit, False, step_text, tokens_of, count_tokens, True)
    middle = (len(views) - 1) / 2
    for cut_errors in (False, True):
        # omit from the middle outwards; steps with errors only once their errors may be cut
        order = sorted(range(len(views)), key=lambda i: (views[i].has_error, abs(i - middle)))
        omitted: set[int] = set()
        total = sum(tokens_of(v, limit, cut_errors) for v in views)
        for index in order:
            if total <= budget_tokens or len(views) - len(omitted) <= 2:
                break  # keep at least two steps
            if views[index].has_error and not cut_errors:
                break
            omitted.add(index)
            total -= tokens_of(views[index], limit, cut_errors)
        if total <= budget_tokens:
            return _finish(trajectory, views, omitted, limit, cut_errors, step_text, tokens_of, count_tokens, True)
    return _finish(trajectory, views, omitted, limit, True, step_text, tokens_of, count_tokens, False)


def raw_tokens(trajectory: Trajectory, count_tokens: TokenCounter) -> int:
    """Tokens of the trajectory's ATIF JSON (the raw size the rendered text is compared with)."""
    return count_tokens(orjson.dumps(trajectory.to_atif()).decode())


def _finish(trajectory, views, omitted, limit, cut_errors, step_text, tokens_of, count_tokens, fits) -> RenderedTrajectory:
    """Join the chosen steps; tokens are the sum of the per-step counts already made and of the
    omission markers."""
    parts: list[str] = []
    cut_total = 0
    tokens = 0
    gap: list[int] = []

    def flush_gap() -> None:
        nonlocal tokens
        if gap:
            span = f"{gap[0]}–{gap[-1]}" if len(gap) > 1 else str(gap[0])
            parts.append(f"[steps {span} omitted to fit the token budget]")
            tokens += count_tokens(parts[-1] + "\n\n")
            gap.clear()

    for index, view in enumerate(views):
        if index in omitted:
            gap.append(view.step_id)
            continue
        flush_gap()
        text, cut = step_text(view, limit, cut_errors)
        cut_total += cut
        tokens += tokens_of(view, limit, cut_errors)
        parts.append(text)
    flush_gap()
    return RenderedTrajectory(
        session_id=trajectory.session_id,
        text="\n\n".join(parts),
        counted=tokens,
        raw=lambda: raw_tokens(trajectory, count_tokens),
        in_parts=True,
        cut_blocks=cut_total,
        omitted_steps=sorted(views[i].step_id for i in omitted),
        fits=fits,
    )


def _views(trajectory: Trajectory, seen: dict[str, str], label: str) -> list[_StepView]:
    views = []
    where_prefix = f"{label} " if label else ""
    for step in trajectory.steps:
        blocks: list[_Block] = []
        where = f"{where_prefix}step {step.step_id}"

        def add(text: str, header: str = "", whole: bool = False) -> None:
            text = _strip_base64(text or "")
            if not text.strip() and not header:
                return
            key = " ".join(text.split())
            if len(key) >= REPEAT_MIN_CHARS:
                if key in seen:
                    text = f"[same as {seen[key]}]"
                else:
                    seen[key] = where
            blocks.append(_Block(text, whole, header))

        add(step.message)
        if step.reasoning_content:
            add(step.reasoning_content, "(reasoning)")
        rejected = set(step.extra.get("rejected_call_ids", ()))
        answered = set()
        for call in step.tool_calls:
            add(canonical_arguments(call.arguments) if call.arguments else "", f"→ call {call.function_name}")
            if call.tool_call_id in rejected:
                blocks.append(_Block("(the user rejected this call)", True))
            result = step.result_for(call.tool_call_id)
            if result is not None:
                answered.add(id(result))
                add(result.content, f"← {call.function_name} {'ERROR' if result.is_error else 'result'}:", whole=result.is_error)
        for result in step.observation.results if step.observation else []:
            if id(result) not in answered:
                add(result.content, f"← {'ERROR' if result.is_error else 'result'}:", whole=result.is_error)
        if step.extra.get("interrupted"):
            blocks.append(_Block("(the user interrupted the agent here)", True))
        has_error = any(r.is_error for r in (step.observation.results if step.observation else []))
        views.append(_StepView(step.step_id, f"### step {step.step_id} · {step.source}", blocks, has_error))
    return views


def _strip_base64(text: str) -> str:
    if len(text) < 200:
        return text
    return _BASE64.sub(BASE64_MARK, text)


def _cut(text: str, limit: int | None) -> tuple[str, int]:
    if limit is None or len(text) <= limit:
        return text, 0
    head = (limit * 2) // 3
    tail = limit - head
    removed = len(text) - head - tail
    return f"{text[:head]}\n[… {removed} characters cut …]\n{text[-tail:]}", 1
