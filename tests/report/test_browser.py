"""The HTML report in a real browser (headless Chromium): items open their evidence, the cited step
is highlighted and scrolled to with the quote marked, nothing leaves the page, payloads stay text."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from skillforge.report import write_run_report, write_version_report
from skillforge.report.data import run_report_model, version_report_model
from tests.conftest import REPO, SAMPLE_TRACES
from tests.report.browser import Opened, open_report
from tests.report.runs import PAYLOAD, distill_offline, distill_scripted, payload_logs

PAGE_MB = 4.0
"""Most a 200-trajectory page may weigh (MB): "a few MB" (issue 18)."""
LOAD_S = 3.0
"""Most a 200-trajectory page may take to open here (s); the issue asks under 1 s on a desktop,
the benchmark prints the figure (bench/html_report.py); this bound leaves room for a loaded CI."""


def _norm(text: str) -> str:
    return " ".join(text.split())


def _click_item_and_check_evidence(opened: Opened, model: dict[str, Any], index: int) -> None:
    """Click item ``index``; its first lesson's first citation must show with the cited step
    highlighted, in view, and the quote marked inside it."""
    page = opened.page
    item = model["skill"]["items"][index]
    lesson = model["lessons"][item["lessons"][0]]
    evidence = lesson["evidence"][0]
    marked_step = evidence["marks"][0]["step"]
    page.click(f".item[data-item='{index}'] button.ev")
    box = page.locator(f"#evidence .lesson[data-lesson='{lesson['id']}']").first
    step = box.locator(f".step.cited[data-step='{marked_step}']")
    assert step.count() == 1
    marks = step.locator("mark.quote").all_text_contents()
    assert _norm(evidence["quote"]) in [_norm(text) for text in marks]
    assert all(box.locator(f".step.cited[data-step='{n}']").count() == 1 for n in evidence["steps"])
    in_view = page.evaluate(
        """([selector]) => {
            const step = document.querySelector(selector).getBoundingClientRect();
            const panel = document.getElementById('evidence').getBoundingClientRect();
            return step.top < panel.bottom && step.bottom > panel.top;
        }""",
        [f"#evidence .lesson[data-lesson='{lesson['id']}'] .step.cited[data-step='{evidence['steps'][0]}']"],
    )
    assert in_view, "the cited step was not scrolled into the evidence panel's view"
    outcome = box.locator("[data-role='outcome']").first.text_content()
    trajectory = model["trajectories"][evidence["session"]]
    assert outcome.startswith(trajectory["outcome"]["status"]) and "from " in outcome


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def _assert_clean(opened: Opened) -> None:
    assert opened.leaks == [] and opened.dialogs == [] and opened.errors == []


@pytest.mark.parametrize("analyst", ["offline", "scripted"])
def test_sample_traces_report_opens_the_evidence_of_an_item(
    analyst: str, browser, workdir: Path, tmp_path: Path
) -> None:
    result = (
        distill_offline(SAMPLE_TRACES, "sample-report")
        if analyst == "offline"
        else distill_scripted(SAMPLE_TRACES, "sample-report")
    )
    out = write_run_report(result.run.root, tmp_path / "report.html")
    model = run_report_model(result.run.root)
    opened = open_report(browser, out)
    items = model["skill"]["items"]
    assert opened.page.locator(".item[data-item] button.ev").count() == len(items) > 0
    _click_item_and_check_evidence(opened, model, 0)
    screenshot = tmp_path / "report.png"
    opened.page.screenshot(path=str(screenshot))
    assert _png_size(screenshot) == (1280, 800)
    _click_item_and_check_evidence(opened, model, len(items) - 1)
    # the run panel: stages, merge levels, and a dropped lesson that opens its own evidence
    page = opened.page
    page.click("nav.tabs button[data-tab='run']")
    assert page.locator("#stages tr").count() == len(model["run"]["stages"]) + 2
    assert page.locator("#levels tr").count() == len(model["run"]["consolidation"]["levels"]) + 1
    dropped = page.locator("#dropped-support [data-lesson-link]")
    if dropped.count():
        lesson_id = dropped.first.get_attribute("data-lesson-link")
        dropped.first.click()
        assert page.locator(f"#evidence .lesson[data-lesson='{lesson_id}'] .step.cited mark.quote").count() >= 1
    _assert_clean(opened)


def test_version_report_shows_changes_against_the_version_before(browser, workdir: Path, tmp_path: Path) -> None:
    distill_offline(REPO / "tests" / "data" / "offline_quality" / "codex", "deepened")  # one item, then tau-bench
    distill_offline(SAMPLE_TRACES / "tau-bench", "deepened")
    out = write_version_report(Path("skills"), "deepened", 2, tmp_path / "v2.html", runs=Path(".skillforge") / "runs")
    model = version_report_model(Path("skills"), "deepened", 2, Path(".skillforge") / "runs")
    opened = open_report(browser, out)
    page = opened.page
    assert not page.locator(".diff").first.is_visible()
    page.check("#show-changes")
    assert page.locator(".diff").first.is_visible()
    added = page.locator("#panel-skill [data-change='added']").first
    assert page.evaluate("(node) => getComputedStyle(node).backgroundColor", added.element_handle()) not in (
        "rgba(0, 0, 0, 0)",
        "transparent",
    )
    assert page.locator(".diff tr.add").count() == sum(
        1 for row in model["skill"]["files"][0]["diff"] if row["op"] == "+"
    )
    _click_item_and_check_evidence(opened, model, 0)
    _assert_clean(opened)


def test_tau_bench_report_opens_the_evidence_of_an_item(
    shared_traces: Path, browser, workdir: Path, tmp_path: Path
) -> None:
    result = distill_offline(shared_traces / "tau-bench", "airline-report")
    out = write_run_report(result.run.root, tmp_path / "report.html")
    model = run_report_model(result.run.root)
    opened = open_report(browser, out)
    for index in range(0, len(model["skill"]["items"]), 4):
        _click_item_and_check_evidence(opened, model, index)
    opened.page.screenshot(path=str(tmp_path / "report.png"))
    _assert_clean(opened)


@pytest.mark.slow
def test_a_200_trajectory_llm_run_stays_small_and_quick(
    shared_traces: Path, browser, workdir: Path, tmp_path: Path
) -> None:
    result = distill_scripted(shared_traces / "tau-bench", "airline-llm")
    out = write_run_report(result.run.root, tmp_path / "report.html")
    model = run_report_model(result.run.root)
    size_mb = out.stat().st_size / 1e6
    opened = open_report(browser, out)
    print(f"\n200 tau-bench trajectories (scripted model): page {size_mb:.2f} MB, opened in {opened.load_s:.2f} s")
    assert result.trajectories == 200 and len(model["trajectories"]) == 200
    assert size_mb < PAGE_MB and opened.load_s < LOAD_S
    _click_item_and_check_evidence(opened, model, 0)
    _assert_clean(opened)


def test_planted_html_and_js_payloads_show_as_text_and_never_run(browser, workdir: Path, tmp_path: Path) -> None:
    result = distill_offline(payload_logs(tmp_path / "logs"), "payload")
    out = write_run_report(result.run.root, tmp_path / "report.html")
    model = run_report_model(result.run.root)
    opened = open_report(browser, out)
    page = opened.page
    planted = [i for i, item in enumerate(model["skill"]["items"]) if "__pwned" in item["text"]]
    assert planted, "the payload did not reach an item of the skill"
    for index in planted:
        _click_item_and_check_evidence(opened, model, index)
        evidence = page.locator("#evidence").text_content()
        assert "<script>window.__pwned=1</script>" in evidence  # the quote, marked, as text
        assert PAYLOAD in evidence  # the first user message of the trajectory, as text
    page.click("nav.tabs button[data-tab='run']")
    state = page.evaluate(
        """() => ({
            pwned: window.__pwned === undefined ? null : window.__pwned,
            scripts: document.querySelectorAll('script').length,
            live: document.querySelectorAll('img, iframe, object, embed, a[href^="javascript:"]').length,
            handlers: [...document.querySelectorAll('*')]
                .filter(n => [...n.attributes].some(a => a.name.startsWith('on'))).length,
            skill: document.getElementById('panel-skill').textContent,
        })"""
    )
    assert state["pwned"] is None and state["scripts"] == 2 and state["live"] == 0 and state["handlers"] == 0
    assert "<script>window.__pwned=" in state["skill"] and "onerror=" in state["skill"]
    _assert_clean(opened)
