"""The built website, tested in a real browser (headless Chromium driven by Playwright).

Needs the site built first (`make book`) and Chromium at /usr/bin/chromium (Debian's `chromium`).
Without them these tests are skipped, unless LENET_COURSE_REQUIRE_SITE=1 (set by CI), which turns
a missing site or browser into a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
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


def toc_pages() -> list[str]:
    entries = ["book/intro"] + re.findall(r"file:\s*(\S+)", (ROOT / "_toc.yml").read_text())
    return [f"{entry}.html" for entry in entries]


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SITE))
    handler = type("QuietHandler", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *args: None})
    handler = functools.partial(handler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync", "--disable-quic"])
        yield instance
        instance.close()


@pytest.fixture
def page(browser, server):
    """A page that records console errors and blocks (and records) every request that leaves the machine."""
    context = browser.new_context()
    page = context.new_page()
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
    yield page
    context.close()


@pytest.mark.parametrize("path", toc_pages())
def test_every_page_loads_offline_without_errors(page, server, path):
    response = page.goto(f"{server}/{path}", wait_until="networkidle")
    assert response is not None and response.ok, path
    assert page.external_requests == [], f"{path} needs the network: {page.external_requests}"
    assert page.console_errors == [], f"{path} logs errors: {page.console_errors}"
    outputs = page.locator(".cell_output").all_inner_texts()
    assert not any("Traceback (most recent call last)" in o for o in outputs), path
    assert not any(re.search(r"\b\w*Warning:", o) for o in outputs), f"{path} shows a warning in its output"
    stray = [o for o in outputs if re.search(r"^\[?Text\(|<matplotlib\.", o.strip())]
    assert stray == [], f"{path} prints matplotlib return values: {stray[0][:80] if stray else ''}"
    for image in page.locator("main img").all():
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), f"broken image on {path}"


def test_chapters_have_figures(page, server):
    for path in toc_pages():
        if re.search(r"book/\d\d_", path):  # the numbered chapters
            page.goto(f"{server}/{path}")
            assert page.locator("main img").count() >= 1, f"{path} has no figure"


def test_formulas_render_without_a_network(page, server):
    page.goto(f"{server}/book/04_c1.html", wait_until="networkidle")
    page.wait_for_selector("mjx-container", timeout=15_000)
    assert page.locator("mjx-container").count() >= 1
    assert page.external_requests == []


def test_the_convolution_animation_plays(page, server):
    page.goto(f"{server}/book/04_c1.html", wait_until="networkidle")
    slider = page.locator("input.anim-slider, input[type=range]").first
    start = slider.input_value()
    page.locator("button[title='Play'], button:has(i.fa-play)").first.click()
    page.wait_for_timeout(1500)
    assert slider.input_value() != start, "the animation did not advance after pressing play"


def test_solutions_are_hidden_until_opened(page, server):
    page.goto(f"{server}/book/14_pytorch_implementation.html", wait_until="networkidle")
    solution = page.locator("main .admonition.dropdown").first
    body = solution.locator("p:not(.admonition-title)").first
    assert not body.is_visible()
    solution.locator(".admonition-title").first.click()
    page.wait_for_timeout(300)
    assert body.is_visible()


def test_search_finds_a_chapter(page, server):
    page.goto(f"{server}/search.html?q=receptive", wait_until="networkidle")
    page.wait_for_selector("ul.search li", timeout=15_000)
    results = page.locator("ul.search li").all_inner_texts()
    assert any("receptive" in r.lower() for r in results)


def test_glossary_terms_link_to_the_glossary(page, server):
    page.goto(f"{server}/book/01_history.html")
    links = page.locator("a[href*='glossary.html#term-']")
    assert links.count() >= 2
    page.goto(f"{server}/book/glossary.html")
    assert "卷积层" in page.inner_text("main") and "权重共享" in page.inner_text("main")
