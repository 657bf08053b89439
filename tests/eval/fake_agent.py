#!/usr/bin/env python3
"""A deterministic fake agent for the A/B replay tests: it succeeds on a task when, and only when,
the skills it is given hold the guidance that task needs.

Usage: ``fake_agent.py TASK SKILLS_DIR OUT [--log harbor|tau-bench|none]``

It reads every ``SKILL.md`` under ``SKILLS_DIR`` (the folder ``{skills}`` names), looks up the
sentence the task needs (:data:`NEEDS`; a task that needs none always succeeds, an unknown task
always fails) and, succeeding or not, leaves what a real harness leaves in ``OUT``:

* ``harbor`` (default): Harbor's trial layout, ``agent/trajectory.json`` (an ATIF v1.4 document
  with ``final_metrics`` tokens and cost, and no outcome, as Harbor writes it) and
  ``verifier/reward.txt`` (``1`` or ``0``);
* ``tau-bench``: ``results.json``, one tau-bench run record ``{task_id, trial, reward, info, traj}``;
* ``none``: no log; the exit code (0 success, 1 failure) tells.

With ``FAKE_AGENT_CALLS=<file>`` set, each call appends ``TASK SKILLS_DIR`` to that file.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

NEEDS = {
    "change-flight": "check the fare rules before changing a flight",
    "cancel-flight": "check the fare rules before changing a flight",
    "baggage": "count free bags from the membership tier",
    "book-flight": None,
}
"""Task → the sentence (case and spacing ignored) a skill must hold for the agent to succeed."""

TOKENS = {"prompt": 1200, "completion": 300, "usd": 0.0045}


def skill_text(skills: Path) -> str:
    """All SKILL.md text under ``skills``, lower-cased, whitespace collapsed."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(skills.rglob("SKILL.md"))]
    return " ".join(" ".join(texts).lower().split())


def atif(task: str, succeeded: bool, guidance: str | None) -> dict:
    said = f"Following the skill: {guidance}." if succeeded and guidance else "Proceeding without a rule for this."
    return {
        "schema_version": "ATIF-v1.4",
        "session_id": f"fake-{task}",
        "agent": {"name": "fake-agent", "version": "1.0", "model_name": "fake-model"},
        "steps": [
            {"step_id": 1, "source": "user", "message": f"Please handle the {task} request for my booking."},
            {
                "step_id": 2,
                "source": "agent",
                "message": said,
                "tool_calls": [
                    {"tool_call_id": "c1", "function_name": "update_reservation", "arguments": {"task": task}}
                ],
                "observation": {
                    "results": [
                        {"source_call_id": "c1", "content": "ok" if succeeded else "Error: fare rules violated"}
                    ]
                },
                "metrics": {
                    "prompt_tokens": TOKENS["prompt"],
                    "completion_tokens": TOKENS["completion"],
                    "cost_usd": TOKENS["usd"],
                },
            },
        ],
        "final_metrics": {
            "total_prompt_tokens": TOKENS["prompt"],
            "total_completion_tokens": TOKENS["completion"],
            "total_cost_usd": TOKENS["usd"],
            "total_steps": 2,
        },
    }


def tau_record(task: str, succeeded: bool) -> list[dict]:
    return [
        {
            "task_id": task,
            "trial": 0,
            "reward": 1.0 if succeeded else 0.0,
            "info": {"task": {"instruction": f"Handle the {task} request."}},
            "traj": [
                {"role": "system", "content": "You are an airline agent."},
                {"role": "user", "content": f"Please handle the {task} request for my booking."},
                {"role": "assistant", "content": "Done." if succeeded else "I could not do it."},
            ],
        }
    ]


def main(argv: list[str]) -> int:
    task, skills, out = argv[0], Path(argv[1]), Path(argv[2])
    log = argv[argv.index("--log") + 1] if "--log" in argv else "harbor"
    if calls := os.environ.get("FAKE_AGENT_CALLS"):
        with open(calls, "a", encoding="utf-8") as handle:
            handle.write(f"{task} {skills}\n")
    guidance = NEEDS.get(task, "no skill covers an unknown task")
    succeeded = guidance is None or guidance in skill_text(skills)
    out.mkdir(parents=True, exist_ok=True)
    if log == "harbor":
        (out / "agent").mkdir(exist_ok=True)
        (out / "agent" / "trajectory.json").write_text(
            json.dumps(atif(task, succeeded, guidance), indent=1), encoding="utf-8"
        )
        (out / "verifier").mkdir(exist_ok=True)
        (out / "verifier" / "reward.txt").write_text("1\n" if succeeded else "0\n", encoding="utf-8")
    elif log == "tau-bench":
        (out / "results.json").write_text(json.dumps(tau_record(task, succeeded)), encoding="utf-8")
    print(f"{task}: {'success' if succeeded else 'failure'}")
    return 0 if succeeded or log != "none" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
