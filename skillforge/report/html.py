"""Render the report model (:mod:`skillforge.report.data`) into ONE self-contained HTML file.

Templates: ``templates/report/page.html.j2`` (with ``run.html.j2`` and ``macros.html.j2``), the
inline stylesheet ``style.css.j2`` and the viewer script ``viewer.js.j2``; Jinja2 with autoescape on.
The page makes no request: no external file, no CDN, images off in the Markdown, and a
Content-Security-Policy (``default-src 'none'``) that allows only the one inline script, by its
sha256 hash (CSP Level 2, https://www.w3.org/TR/CSP2/#script-src-hash-usage), so that even a bug
that let markup through could not run a script.

What the viewer needs (items, lessons, cited trajectories) is embedded as JSON in a
``<script type="application/json">`` block with every ``<``, ``>`` and ``&`` written as a JSON
``\\u00XX`` escape, so that no ``</script>`` or ``<!--`` in trajectory text can end the block
(HTML spec, "Restrictions for contents of script elements").
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from skillforge.errors import SkillforgeError
from skillforge.report.data import run_report_model, version_report_model
from skillforge.report.markdown import render_file, render_frontmatter
from skillforge.resources import data_dir

REPORT_FILE = "report.html"
"""File name of a run's report inside its run folder (the default output of ``report RUN --html``)."""
REPORTS_DIR = "reports"
"""Folder of the workspace where version reports go by default (``show NAME@vN --html``)."""


def write_run_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the HTML report of one run.

    Args:
        run_dir: the run folder (``.skillforge/runs/<id>``).
        out: the file to write; an existing folder gets ``report.html`` inside it; None:
            ``<run_dir>/report.html``.

    Returns:
        The path written.

    Raises:
        SkillforgeError: not a run folder, or the file cannot be written.
    """
    model = run_report_model(Path(run_dir))
    target = _target(Path(run_dir) / REPORT_FILE if out is None else Path(out), REPORT_FILE)
    return _write(target, render_html(model))


def write_version_report(
    store_dir: Path,
    name: str,
    version: int | None,
    out: Path | None = None,
    *,
    runs: Path | None = Path(".skillforge") / "runs",
) -> Path:
    """Write the HTML report of one stored version.

    Args:
        store_dir: the skill store.
        name: the skill.
        version: the version number; None for the latest.
        out: the file to write; an existing folder gets ``<name>-v<N>.html`` inside it; None:
            ``.skillforge/reports/<name>-v<N>.html``.
        runs: the folder of run folders; the run that made the version gives the trajectories
            behind the evidence (without it, citations are shown without their steps).

    Returns:
        The path written.

    Raises:
        SkillforgeError: unknown store, skill or version, or the file cannot be written.
    """
    model = version_report_model(Path(store_dir), name, version, runs)
    file_name = f"{name}-v{model['version']['version']}.html"
    default = Path(".skillforge") / REPORTS_DIR / file_name
    return _write(_target(default if out is None else Path(out), file_name), render_html(model))


def render_html(model: dict[str, Any]) -> str:
    """The page for ``model`` (one string holding all CSS, JS and data)."""
    environment = _environment()
    script = environment.get_template("viewer.js.j2").render()
    style = environment.get_template("style.css.j2").render()
    for text, what in ((script, "viewer.js.j2"), (style, "style.css.j2")):
        if "</" in text.replace("<\\/", ""):  # a closing tag would end the inline element early
            raise SkillforgeError(f"templates/report/{what} must not contain '</'")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    skill = model.get("skill") or {}
    files = [file["path"] for file in skill.get("files", [])]
    items = skill.get("items", [])
    return environment.get_template("page.html.j2").render(
        model=model,
        script=Markup(script),
        style=Markup(style),
        script_hash=f"sha256-{digest}",
        data_json=Markup(
            embed_json({key: model[key] for key in ("lessons", "trajectories", "texts")} | {"items": items})
        ),
        render_file=lambda file: render_file(file, items, files),
        render_frontmatter=render_frontmatter,
    )


def embed_json(data: Any) -> str:
    """``data`` as JSON safe inside ``<script type="application/json">``: ``<``, ``>``, ``&`` escaped
    as ``\\u003c``, ``\\u003e``, ``\\u0026`` (``JSON.parse`` reads them back unchanged)."""
    raw = orjson.dumps(data).decode("utf-8")
    return raw.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(data_dir("templates") / "report")),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    environment.filters["pretty_json"] = lambda value: json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return environment


def _target(path: Path, file_name: str) -> Path:
    return path / file_name if path.is_dir() else path


def _write(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (a temporary file, then a rename)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            handle.write(text)
        os.replace(handle.name, path)
    except OSError as exc:
        raise SkillforgeError(f"cannot write the report to {path}: {exc.strerror or exc}") from exc
    return path
