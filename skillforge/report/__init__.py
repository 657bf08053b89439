"""The HTML evidence report of a run or of a stored version (issue 18).

:func:`write_run_report` and :func:`write_version_report` write one self-contained HTML file: the
skill with every item linked to the lessons and trajectory steps behind it, the diff against the
start version, and the run's figures (stages, merge tree, dropped lessons, contradictions,
validation, eval results when present). :mod:`.data` builds the page model, :mod:`.html` renders it.
"""

from skillforge.report.html import REPORT_FILE, REPORTS_DIR, render_html, write_run_report, write_version_report

__all__ = ["REPORTS_DIR", "REPORT_FILE", "render_html", "write_run_report", "write_version_report"]
