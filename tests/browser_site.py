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

# Every image of a page's content, with its figure's number and caption, its alt text and its
# sizes (shown, declared in the HTML, and the PNG's own). Read before WIDE_BLOCKS opens the
# folded solutions, so that an image inside one still counts as not shown.
FIGURES = """() => [...document.querySelectorAll('main article.bd-article img')].map(img => {
    const figure = img.closest('figure');
    const text = selector => (figure?.querySelector(selector)?.textContent || '').trim();
    return {alt: (img.getAttribute('alt') || '').trim(), src: img.getAttribute('src') || '',
            number: text('figcaption .caption-number'), caption: text('figcaption .caption-text'),
            shown: img.getBoundingClientRect().width, declared: parseFloat(img.getAttribute('width') || '0'),
            natural: img.naturalWidth};
})"""

PAGE_FACTS = """() => ({
    lang: document.documentElement.lang,
    stale: document.querySelectorAll('main .zh-stale').length,
    outputs: [...document.querySelectorAll('.cell_output')].map(o => o.innerText),
    broken_images: [...document.querySelectorAll('main img')].filter(i => !(i.complete && i.naturalWidth > 0))
        .map(i => i.getAttribute('src')),
    code_blocks: document.querySelectorAll('main div.cell_input pre').length,
    colab_blocks: [...document.querySelectorAll('main div.cell_input pre')]
        .filter(pre => pre.textContent.includes('google.colab')).length,
})"""


def recording(page, server: str):
    """``page``, made to record its console errors (``page.console_errors``) and to block, and
    record, every request that leaves the machine (``page.external_requests``)."""
    page.external_requests = []
    page.console_errors = []

    def route(r):
        if r.request.url.startswith(server):
            r.continue_()
        else:
            page.external_requests.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    return page


def read_page(browser, server: str, path: str) -> dict:
    """Load ``path`` once, as a reader on a 1,366-px screen would, with every request that leaves
    the machine blocked, and return what the page-by-page tests check: ``ok`` (the response),
    ``external_requests``, ``console_errors``, the facts of PAGE_FACTS, ``figures`` (FIGURES)
    and ``wide`` (WIDE_BLOCKS). One load serves all of them, so the site's pages are each
    loaded once for these checks rather than once per check."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = recording(context.new_page(), server)
    try:
        response = page.goto(f"{server}/{path}", wait_until="networkidle")
        facts = page.evaluate(PAGE_FACTS)
        facts["figures"] = page.evaluate(FIGURES)
        facts["wide"] = page.evaluate(WIDE_BLOCKS)  # last: it opens the folded solutions
    finally:
        context.close()
    facts.update(ok=response is not None and response.ok, external_requests=page.external_requests,
                 console_errors=page.console_errors)
    return facts
