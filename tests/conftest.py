import os

import pytest
import torch
from browser_site import CHROMIUM, SITE, read_page, recording

from lenet_course.data import MNISTError, load_mnist
from lenet_course.style import STRICT_ENV
from lenet_course.web import serve

# Every chapter the tests run (nbval starts its kernels from this process) fails on a figure
# that breaks the book's style, as the website build does.
os.environ.setdefault(STRICT_ENV, "1")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def mnist():
    """Full MNIST in its three splits; skipped (with the reason) when the files cannot be had,
    unless LENET_COURSE_REQUIRE_DATA=1 (CI), where that is a failure."""
    try:
        return load_mnist()
    except MNISTError as exc:
        if os.environ.get("LENET_COURSE_REQUIRE_DATA") == "1":
            raise
        pytest.skip(f"MNIST is not available here: {str(exc).splitlines()[0]}")


# --- the built website in headless Chromium (tests/test_website*.py) -------------------------

@pytest.fixture(scope="module")
def server():
    with serve(SITE) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync", "--disable-quic"])
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def visit(browser, server):
    """``visit(path)``: what :func:`browser_site.read_page` read of the page, loaded on first use
    and kept for the module's other tests of the same page."""
    seen = {}

    def facts(path: str) -> dict:
        if path not in seen:
            seen[path] = read_page(browser, server, path)
        return seen[path]

    return facts


@pytest.fixture
def page(browser, server):
    """A page that records console errors and blocks (and records) every request that leaves the machine."""
    context = browser.new_context()
    page = recording(context.new_page(), server)
    yield page
    context.close()
