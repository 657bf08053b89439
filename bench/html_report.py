"""Benchmark — size and opening time of the HTML evidence report (issue 18) on 200 trajectories.

The 200 tau-bench runs of the real corpus are distilled twice in a scratch folder: offline (the
heuristic analyst) and with the scripted model of ``tests/scripted_llm.py`` (the LLM analysts and
build; no network). For each run the report is written (``write_run_report``) and, when Debian's
``chromium`` and Playwright's Python package are installed, opened in headless Chromium at
1280×800 until the viewer has run; then the first item is clicked and the time until its cited
step shows is taken. Times are the median of ``--rounds`` openings (a fresh page each).

Printed: trajectories in the run, trajectories embedded (those cited), lessons, items, page size
(MB), seconds to write the page, to open it, and to show an item's evidence.

Usage: .venv/bin/python bench/html_report.py [LOGS] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.progress import Progress  # noqa: E402
from rich.table import Table  # noqa: E402

from skillforge.config import ModelConfig  # noqa: E402
from skillforge.distill.options import DistillOptions  # noqa: E402
from skillforge.distill.pipeline import distill  # noqa: E402
from skillforge.report import write_run_report  # noqa: E402
from skillforge.report.data import run_report_model  # noqa: E402
from tests.report.browser import CHROMIUM, CHROMIUM_ARGS, missing_browser, open_report  # noqa: E402
from tests.scripted_llm import install, pipeline_responder  # noqa: E402

SHARED = Path(os.environ.get("SKILLFORGE_SHARED_TRACES", REPO.parent / "shared" / "traces"))


def distill_run(logs: Path, analyst: str) -> Path:
    """Distill ``logs`` in the current folder; return the run folder."""
    model = ModelConfig()
    if analyst == "scripted":
        install(pipeline_responder())
        model = ModelConfig(model="scripted/build", concurrency=8)
    options = DistillOptions(
        paths=[logs], skill_name=f"bench-{analyst}", model=model, analyst="heuristic" if analyst == "offline" else "llm"
    )
    result = distill(options, Progress(disable=True))
    return result.run.root


def open_times(path: Path, rounds: int) -> tuple[float, float]:
    """Median seconds to open the page and to show the first item's cited step."""
    from playwright.sync_api import sync_playwright

    opened, shown = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        for _ in range(rounds):
            page = open_report(browser, path)
            opened.append(page.load_s)
            clock = time.monotonic()
            page.page.click(".item[data-item='0'] button.ev")
            page.page.wait_for_selector("#evidence .step.cited")
            shown.append(time.monotonic() - clock)
            if page.leaks:
                raise SystemExit(f"the page made requests: {page.leaks}")
            page.page.context.close()
        browser.close()
    return statistics.median(opened), statistics.median(shown)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="?", type=Path, default=SHARED / "tau-bench")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not args.logs.exists():
        raise SystemExit(f"no logs at {args.logs} (set SKILLFORGE_SHARED_TRACES)")
    browser = missing_browser()
    table = Table(title=f"HTML report of {args.logs}")
    for column in ("run", "trajectories", "embedded", "lessons", "items", "page MB", "write s", "open s", "evidence s"):
        table.add_column(column, justify="left" if column == "run" else "right")
    sizes = []
    with tempfile.TemporaryDirectory(prefix="skillforge-bench-html-") as scratch:
        os.chdir(scratch)
        for analyst in ("offline", "scripted"):
            with ThreadPoolExecutor(
                max_workers=1
            ) as pool:  # distill's asyncio.run, away from any event loop of Playwright's
                run = pool.submit(distill_run, args.logs.resolve(), analyst).result()
            clock = time.monotonic()
            out = write_run_report(run, Path(scratch) / f"{analyst}.html")
            write_s = time.monotonic() - clock
            model = run_report_model(run)
            size_mb = out.stat().st_size / 1e6
            sizes.append(size_mb)
            open_s, shown_s = open_times(out, args.rounds) if browser is None else (float("nan"), float("nan"))
            table.add_row(
                analyst,
                str(model["run"]["trajectories"]),
                str(len(model["trajectories"])),
                str(len(model["lessons"])),
                str(len(model["skill"]["items"])),
                f"{size_mb:.2f}",
                f"{write_s:.2f}",
                f"{open_s:.2f}",
                f"{shown_s:.2f}",
            )
    Console(width=120).print(table)
    if browser:
        print(f"note: not opened in a browser: {browser}")
    print(f"summary: largest page {max(sizes):.2f} MB for {args.logs.name}; goal: a few MB, opened in under 1 s")


if __name__ == "__main__":
    main()
