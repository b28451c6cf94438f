"""The built website, tested in a real browser (headless Chromium driven by Playwright).

Needs the site built first (`make book`) and Chromium at /usr/bin/chromium (Debian's `chromium`).
Without them these tests are skipped, unless LENET_COURSE_REQUIRE_SITE=1 (set by CI), which turns
a missing site or browser into a failure.
"""

from __future__ import annotations

import functools
import http.server
import math
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


@pytest.mark.parametrize("path", [p for p in toc_pages() if re.search(r"book/\d\d_", p)])
def test_no_code_block_scrolls_sideways_at_1366_px(browser, server, path):
    """A reader on a 1,366-px laptop screen sees every line of code without scrolling."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{server}/{path}")
        wide = page.evaluate("""() => [...document.querySelectorAll('main div.cell_input pre')]
            .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
            .map(pre => pre.textContent.split('\\n').reduce((a, b) => a.length > b.length ? a : b))""")
        assert page.locator("main div.cell_input pre").count() > 0, f"{path} shows no code"
        assert wide == [], f"{path}: {len(wide)} code blocks scroll sideways, e.g. {wide[0][:60]!r}"
        colab = page.locator("main div.cell_input pre", has_text="google.colab").count()
        assert colab == 0, f"{path} shows the Colab install cell"
    finally:
        context.close()


def test_chapters_have_figures(page, server):
    for path in toc_pages():
        if re.search(r"book/\d\d_", path):  # the numbered chapters
            page.goto(f"{server}/{path}")
            assert page.locator("main img").count() >= 1, f"{path} has no figure"


@pytest.mark.parametrize("path", [p for p in toc_pages() if re.search(r"book/(\d\d_|intro)", p)])
def test_every_figure_is_numbered_captioned_described_and_shown_at_its_size(browser, server, path):
    """On a 1,366-px screen: every image of the page's content sits in a numbered figure with a
    caption, has an alt text that describes it (not a file name), and is shown at the size it
    was drawn (not shrunk), from a PNG with twice the pixels (sharp)."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{server}/{path}")
        images = page.evaluate("""() => [...document.querySelectorAll('main article.bd-article img')].map(img => {
            const figure = img.closest('figure');
            const text = selector => (figure?.querySelector(selector)?.textContent || '').trim();
            return {alt: (img.getAttribute('alt') || '').trim(), src: img.getAttribute('src') || '',
                    number: text('figcaption .caption-number'), caption: text('figcaption .caption-text'),
                    shown: img.getBoundingClientRect().width, declared: parseFloat(img.getAttribute('width') || '0'),
                    natural: img.naturalWidth};
        })""")
    finally:
        context.close()
    assert images, f"{path} has no figure"
    chapter = re.search(r"book/(\d\d)_", path)
    expected = rf"Figure {int(chapter.group(1))}\.\d+" if chapter else r"Figure \d+"
    for image in images:
        where = f"{path}: image {image['src'][-20:]}"
        assert re.fullmatch(expected, image["number"]), f"{where} is not in a numbered figure: {image['number']!r}"
        assert len(image["caption"].split()) >= 6, f"{where} has no caption"
        assert len(image["alt"].split()) >= 5, f"{where}: alt text {image['alt']!r}"
        assert not re.search(r"\.(png|svg|jpe?g)$|_images/", image["alt"]), f"{where}: its alt text is a file name"
        if image["declared"] and image["shown"]:  # a figure (folded solutions are not shown)
            assert image["shown"] >= image["declared"] - 1, f"{where} is shrunk to {image['shown']:.0f} px"
            assert image["natural"] >= 1.9 * image["declared"], f"{where} is not a 2x image"


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


def test_solution_code_is_folded_until_opened(page, server):
    page.goto(f"{server}/book/04_c1.html", wait_until="networkidle")
    cell = page.locator("main div.cell.tag_hide-cell").first
    code = cell.locator("div.cell_input").first
    assert not code.is_visible()
    cell.locator("summary").first.click()
    page.wait_for_timeout(300)
    assert code.is_visible()


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


# --- the drawing page: LeNet-5 in JavaScript ----------------------------------------------------

DRAWING_PAGE = "book/try_lenet5.html"
NEXT_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


@pytest.fixture(scope="module")
def reference():
    """200 MNIST test digits with PyTorch's logits from the shipped, verified weights."""
    import torch

    from lenet_course.checkpoints import load_pretrained
    from lenet_course.data import load_raw, prepare_images
    from lenet_course.train import predict_logits

    images, labels = load_raw("test")
    images, labels = images[:200], labels[:200]
    logits = predict_logits(load_pretrained("lenet5"), prepare_images(images))
    return images, labels, logits, torch


def test_javascript_logits_equal_pytorch_on_200_test_digits(page, server, reference):
    images, labels, logits, torch = reference
    page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
    js = page.evaluate("digits => digits.map(d => window.lenet.predict(d).logits)",
                       images.flatten(1).tolist())
    js = torch.tensor(js)
    assert js.shape == (200, 10)
    assert (js - logits).abs().max() < 1e-4, f"largest difference {(js - logits).abs().max():.2e}"
    assert torch.equal(js.argmax(1), logits.argmax(1))
    assert page.console_errors == [] and page.external_requests == []


def test_javascript_stages_have_the_python_shapes(page, server):
    page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
    sizes = page.evaluate("""() => { const r = window.lenet.predict(window.lenet.samples[0].pixels);
        return Object.fromEntries(Object.entries(r.stages).map(([k, v]) => [k, v.length])); }""")
    assert sizes == {"input": 32 * 32, "c1": 6 * 28 * 28, "s2": 6 * 14 * 14, "c3": 16 * 10 * 10,
                     "s4": 16 * 5 * 5, "f5": 120, "f6": 84, "output": 10}


def drawings():
    """Bitmaps a reader might draw: MNIST digits blown up, off-centre and off-scale, and strokes."""
    import torch

    from lenet_course.data import load_raw

    images, _ = load_raw("test")
    out = []
    for k, (size, top, left) in enumerate([(280, 0, 0), (150, 10, 100), (90, 170, 20), (200, 40, 60)]):
        big = torch.nn.functional.interpolate(images[k][None, None].float(), size=(size, size),
                                              mode="bilinear", align_corners=False)[0, 0]
        canvas = torch.zeros(280, 280)
        canvas[top:top + size, left:left + size] = big[:280 - top, :280 - left]
        out.append(canvas.round().clamp(0, 255))
    bar = torch.zeros(120, 200)
    bar[10:110, 95:105] = 255  # a thin upright bar in a wide, non-square bitmap
    out.append(bar)
    out.append(torch.zeros(50, 50))  # blank
    return out


def test_javascript_preprocessing_equals_python(page, server):
    from lenet_course.data import preprocess_drawing

    page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
    for bitmap in drawings():
        h, w = bitmap.shape
        js = page.evaluate("([b, h, w]) => window.lenet.preprocess(b, h, w)",
                           [bitmap.flatten().tolist(), h, w])
        python = preprocess_drawing(bitmap).flatten().tolist()
        assert js == python, f"{h}x{w} bitmap: {sum(a != b for a, b in zip(js, python))} pixels differ"


def draw(page, points, steps=6):
    """Draw one stroke with the mouse through ``points`` given in 0..1 of the drawing area."""
    box = page.locator("#lenet-pad").bounding_box()
    xy = [(box["x"] + px * box["width"], box["y"] + py * box["height"]) for px, py in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=steps)
    page.mouse.up()


@pytest.mark.parametrize("digit,strokes", [
    ("1", [[(0.5, 0.15), (0.5, 0.85)]]),
    ("0", [[(0.5 + 0.22 * math.sin(2 * math.pi * t / 24), 0.5 - 0.32 * math.cos(2 * math.pi * t / 24))
            for t in range(25)]]),
    ("7", [[(0.25, 0.2), (0.72, 0.2), (0.45, 0.85)]]),
], ids=["vertical line", "closed loop", "seven"])
def test_strokes_drawn_with_the_mouse_are_read(page, server, digit, strokes):
    page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
    for stroke in strokes:
        draw(page, stroke)
    page.wait_for_function("document.getElementById('lenet-demo').dataset.prediction !== ''")
    assert page.locator("#lenet-demo").get_attribute("data-prediction") == digit
    assert page.locator(".lenet-winner .lenet-digit").inner_text() == digit
    page.click("#lenet-clear")
    page.wait_for_function("document.getElementById('lenet-demo').dataset.prediction === ''")
    assert page.console_errors == [] and page.external_requests == []


def test_sample_digits_load_and_are_read(page, server):
    page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
    buttons = page.locator("#lenet-samples button")
    assert buttons.count() == 10
    right = 0
    for k in range(10):
        buttons.nth(k).click()
        page.evaluate(NEXT_FRAMES)  # the page redraws on the next animation frame
        right += page.locator("#lenet-demo").get_attribute("data-prediction") == str(k)
    assert right >= 9, f"only {right} of the 10 sample digits were read right"


def test_the_page_works_on_a_phone_with_touch(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                                  is_mobile=True, device_scale_factor=2)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
        box = page.locator("#lenet-pad").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        overflow = page.evaluate("() => document.getElementById('lenet-demo').scrollWidth"
                                 " - document.getElementById('lenet-demo').clientWidth")
        assert overflow <= 1, f"the demo is {overflow} px wider than a 390-px screen"
        cdp = context.new_cdp_session(page)
        x = box["x"] + box["width"] / 2
        points = [(x, box["y"] + box["height"] * (0.15 + 0.7 * t / 10)) for t in range(11)]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0], "y": points[0][1]}]})
        for px, py in points[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": px, "y": py}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        page.wait_for_function("document.getElementById('lenet-demo').dataset.prediction !== ''")
        assert page.locator("#lenet-demo").get_attribute("data-prediction") == "1"
        assert errors == []
    finally:
        context.close()


def test_the_drawing_page_is_linked_from_the_data_flow_chapter(page, server):
    page.goto(f"{server}/book/09_data_flow.html")
    assert page.locator("main a[href*='try_lenet5']").count() >= 1


@pytest.mark.parametrize("path", [p for p in toc_pages() if re.search(r"book/\d\d_", p)])
def test_every_solution_starts_folded_and_opens(page, server, path):
    page.goto(f"{server}/{path}")
    solutions = page.locator("main details.solution")
    assert solutions.count() >= 3, f"{path} shows {solutions.count()} solutions"
    for k in range(solutions.count()):
        details = solutions.nth(k)
        assert details.evaluate("d => !d.open"), f"{path}: solution {k + 1} starts open"
        details.locator("summary").click()
        assert details.evaluate("d => d.open"), f"{path}: solution {k + 1} does not open"
    for cell in page.locator("main div.cell.tag_hide-cell").all():  # folded solution code
        assert not cell.locator("div.cell_input").first.is_visible(), f"{path}: solution code shows"


def test_the_site_is_lean():
    """MathJax is served with the site, but only what the pages use: at most 3 MB of it."""
    sizes = {}
    for path in SITE.rglob("*"):
        if path.is_file():
            top = path.relative_to(SITE).parts[0]
            sizes[top] = sizes.get(top, 0) + path.stat().st_size
    static = SITE / "_static"
    mathjax = sum(p.stat().st_size for part in ("tex-chtml.js", "output", "input", "ui")
                  for p in ([static / part] if (static / part).is_file() else (static / part).rglob("*"))
                  if p.is_file())
    print(f"\nsite: {sum(sizes.values()) / 2**20:.1f} MiB in all, MathJax {mathjax / 2**20:.1f} MiB; "
          + ", ".join(f"{k} {v / 2**20:.1f}" for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])[:5]))
    assert 0 < mathjax <= 3 * 2**20
    assert not (static / "sre").exists() and not (static / "tex-svg-full.js").exists()
