"""The Chinese edition (中文版) of the website in headless Chromium: every page offline and
without errors, the language switch both ways, Chinese search, Chinese glyphs drawn, nothing
scrolling sideways, and the drawing page reading drawn digits in Chinese."""

from __future__ import annotations

import math
import re

import pytest
from browser_site import ROOT, SITE, WIDE_BLOCKS, pytestmark  # noqa: F401  (pytestmark skips without a site)

ZH_TOC = (ROOT / "zh" / "_toc.yml").read_text()
ZH_PAGES = [f"zh/{entry}.html" for entry in re.findall(r"(?:root|file):\s*(\S+)", ZH_TOC)]
DRAWING = "zh/book/try_lenet5.html"


def test_the_chinese_edition_is_built():
    missing = [p for p in ZH_PAGES if not (SITE / p).is_file()]
    assert missing == [], f"the Chinese edition lacks {missing}: run `make book` (it builds both editions)"


@pytest.mark.parametrize("path", ZH_PAGES)
def test_every_chinese_page_loads_offline_without_errors(visit, path):
    page = visit(path)
    assert page["ok"], path
    assert page["lang"] == "zh-CN", path
    assert page["external_requests"] == [], f"{path} needs the network: {page['external_requests']}"
    assert page["console_errors"] == [], f"{path} logs errors: {page['console_errors']}"
    assert page["stale"] == 0, f"{path} says its translation is out of date"
    assert page["broken_images"] == [], f"broken images on {path}: {page['broken_images']}"


@pytest.mark.parametrize("english", ["book/intro.html", "book/04_c1.html", "book/try_lenet5.html"])
def test_the_language_switch_links_both_ways(page, server, english):
    page.goto(f"{server}/{english}", wait_until="networkidle")
    switch = page.locator("a.language-switch")
    assert switch.inner_text().strip() == "中文"
    switch.click()
    page.wait_for_load_state("networkidle")
    assert page.url == f"{server}/zh/{english}" and page.evaluate("document.documentElement.lang") == "zh-CN"
    back = page.locator("a.language-switch")
    assert back.inner_text().strip() == "English"
    back.click()
    page.wait_for_load_state("networkidle")
    assert page.url == f"{server}/{english}"
    assert page.console_errors == [] and page.external_requests == []


def test_the_language_switch_shows_on_a_phone(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        for path in ("book/04_c1.html", "zh/book/04_c1.html"):
            page.goto(f"{server}/{path}", wait_until="networkidle")
            assert page.locator("a.language-switch").is_visible(), f"no language switch on {path} at 390 px"
    finally:
        context.close()


def test_chinese_search_finds_the_convolution_chapters(page, server):
    page.goto(f"{server}/zh/search.html?q=卷积", wait_until="networkidle")
    page.wait_for_selector("ul.search li", timeout=15_000)
    links = [a.get_attribute("href") or "" for a in page.locator("ul.search li a").all()]
    assert any("04_c1" in link for link in links) and any("06_c3" in link for link in links), links


# The width of five CJK characters in the page's own font, against five characters no font has
# (private use): were the Chinese drawn as missing-glyph boxes, the two would be equal.
GLYPHS = """() => {
    const context = document.createElement('canvas').getContext('2d');
    context.font = getComputedStyle(document.querySelector('main p')).font;
    return [context.measureText('卷积特征图').width, context.measureText('\\uE000\\uE001\\uE002\\uE003\\uE004').width];
}"""


def test_chinese_glyphs_are_drawn_not_boxes(page, server):
    page.goto(f"{server}/zh/book/04_c1.html", wait_until="networkidle")
    chinese, missing = page.evaluate(GLYPHS)
    assert chinese > 0 and not math.isclose(chinese, missing, rel_tol=0.02), (chinese, missing)
    page.screenshot(path=str(SITE.parent / "zh-04_c1.png"))  # kept beside the site, for a look


@pytest.mark.parametrize("path", ZH_PAGES)
def test_no_chinese_code_or_output_block_scrolls_sideways_at_1366_px(visit, path):
    wide = visit(path)["wide"]
    assert wide == [], f"{len(wide)} blocks on {path} scroll sideways at 1,366 px: {[b['first'][:60] for b in wide]}"


def _draw(page, points):
    box = page.locator("#lenet-pad").bounding_box()
    xy = [(box["x"] + px * box["width"], box["y"] + py * box["height"]) for px, py in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=6)
    page.mouse.up()


@pytest.mark.parametrize("name", ["lenet5", "lenet5_classic"])
@pytest.mark.parametrize("digit,stroke", [
    ("1", [(0.5, 0.15), (0.5, 0.85)]),
    ("0", [(0.5 + 0.22 * math.sin(2 * math.pi * t / 24), 0.5 - 0.32 * math.cos(2 * math.pi * t / 24))
           for t in range(25)]),
    ("7", [(0.25, 0.2), (0.72, 0.2), (0.45, 0.85)]),
], ids=["vertical line", "closed loop", "seven"])
def test_the_chinese_drawing_page_reads_drawn_digits(page, server, digit, stroke, name):
    page.goto(f"{server}/{DRAWING}", wait_until="networkidle")
    page.locator(f"input[name=lenet-network][value={name}]").check()
    page.wait_for_function(f"document.getElementById('lenet-demo').dataset.network === '{name}'")
    _draw(page, stroke)
    page.wait_for_function("document.getElementById('lenet-demo').dataset.prediction !== ''")
    assert page.locator("#lenet-demo").get_attribute("data-prediction") == digit
    text = page.locator("#lenet-demo").inner_text()
    assert re.search(r"[\u4e00-\u9fff]", text), "the drawing page shows no Chinese"
    assert page.console_errors == [] and page.external_requests == []
