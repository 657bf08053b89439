"""Headless Chromium for the report tests: Debian's ``chromium`` package driven by Playwright's
Python package (``executable_path``; ``playwright install`` is never run).

:func:`open_report` opens a report file in a fresh page that routes every request: ``file:`` and
``data:`` URLs go through, anything else is aborted and recorded in ``Opened.leaks`` (a test asserts
it stays empty). Dialogs (``alert``…) and page errors are recorded too.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("SKILLFORGE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.is_file() and not shutil.which(str(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium, or set SKILLFORGE_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright's Python package is not installed (pip install -e '.[test]')"
    return None


@dataclass
class Opened:
    """A report open in a page, with what the page tried beyond the file."""

    page: Any
    leaks: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    load_s: float = 0.0


def open_report(browser: Any, path: Path) -> Opened:
    """Open ``path`` at 1280×800 and wait until the viewer has run (``body[data-ready]``)."""
    import time

    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    opened = Opened(page)

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(("file:", "data:")):
            request_route.continue_()
        else:
            opened.leaks.append(url)
            request_route.abort()

    context.route("**/*", route)
    page.on(
        "request",
        lambda request: None if request.url.startswith(("file:", "data:")) else opened.leaks.append(request.url),
    )
    page.on("websocket", lambda socket: opened.leaks.append(socket.url))
    page.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    clock = time.monotonic()
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("body[data-ready='true']", state="attached")
    opened.load_s = time.monotonic() - clock
    return opened
