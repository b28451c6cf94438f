"""Where the browser tests find the built site and Chromium, and whether they can run (their
fixtures, the site served on 127.0.0.1, the browser and a page that records console errors and
blocks outside requests, are in conftest.py).

Needs the site built first (`make book`) and Chromium at /usr/bin/chromium (Debian's `chromium`).
Without them the tests that import this are skipped, unless LENET_COURSE_REQUIRE_SITE=1 (set by
CI), which turns a missing site or browser into a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
CHROMIUM = "/usr/bin/chromium"
REQUIRED = os.environ.get("LENET_COURSE_REQUIRE_SITE") == "1"


def _missing() -> str | None:
    if not (SITE / "index.html").is_file():
        return "the website is not built: run `make book` first"
    if not Path(CHROMIUM).exists():
        return "Chromium is not installed: apt-get install chromium"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed: pip install playwright"
    return None


reason = _missing()
if reason and REQUIRED:
    raise RuntimeError(f"LENET_COURSE_REQUIRE_SITE=1 but {reason}")
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")


# Every block of code or printed output: code cells, their outputs (text and HTML), folded
# solutions (opened first) and the code blocks of plain pages such as the drawing page's console
# example. Listed by its first line, so a failure says which blocks to fix.
WIDE_BLOCKS = """() => {
    document.querySelectorAll('main details').forEach(d => { d.open = true; });
    const outputs = [...document.querySelectorAll('main div.cell_output > *')].filter(o => !o.querySelector('pre'));
    return [...document.querySelectorAll('main pre'), ...outputs]
        .filter(block => block.scrollWidth > block.clientWidth + 1)
        .map(block => {
            const lines = (block.innerText || block.textContent).split('\\n');
            return {first: lines.find(line => line.trim()) || '', widest: Math.max(...lines.map(l => l.length)),
                    kind: block.closest('.cell_output') ? 'output' : 'code'};
        });
}"""
