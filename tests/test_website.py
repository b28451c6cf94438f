"""The built website, tested in a real browser (headless Chromium driven by Playwright).

Needs the site built first (`make book`) and Chromium at /usr/bin/chromium (Debian's `chromium`).
Without them these tests are skipped, unless LENET_COURSE_REQUIRE_SITE=1 (set by CI), which turns
a missing site or browser into a failure.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys

import pytest
from browser_site import ROOT, SITE, WIDE_BLOCKS, pytestmark  # noqa: F401  (pytestmark skips without a site)

_spec = importlib.util.spec_from_file_location("course_site", ROOT / "book" / "_ext" / "course_site.py")
course_site = sys.modules["course_site"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(course_site)


def toc_pages() -> list[str]:
    entries = ["book/intro"] + re.findall(r"file:\s*(\S+)", (ROOT / "_toc.yml").read_text())
    return [f"{entry}.html" for entry in entries]


@pytest.mark.parametrize("path", toc_pages())
def test_every_page_loads_offline_without_errors(visit, path):
    page = visit(path)
    assert page["ok"], path
    assert page["external_requests"] == [], f"{path} needs the network: {page['external_requests']}"
    assert page["console_errors"] == [], f"{path} logs errors: {page['console_errors']}"
    outputs = page["outputs"]
    assert not any("Traceback (most recent call last)" in o for o in outputs), path
    assert not any(re.search(r"\b\w*Warning:", o) for o in outputs), f"{path} shows a warning in its output"
    stray = [o for o in outputs if re.search(r"^\[?Text\(|<matplotlib\.", o.strip())]
    assert stray == [], f"{path} prints matplotlib return values: {stray[0][:80] if stray else ''}"
    assert page["broken_images"] == [], f"broken images on {path}: {page['broken_images']}"


@pytest.mark.parametrize("path", toc_pages())
def test_no_code_or_output_block_scrolls_sideways_at_1366_px(visit, path):
    """A reader on a 1,366-px laptop screen sees every line of code and of printed output
    without scrolling sideways, on every page."""
    page = visit(path)
    if re.search(r"book/\d\d_", path):
        assert page["code_blocks"] > 0, f"{path} shows no code"
        assert page["colab_blocks"] == 0, f"{path} shows the Colab install cell"
    wide = page["wide"]
    listing = "\n".join(f"  {path}: {b['kind']} block starting {b['first'][:90]!r} "
                        f"(widest line {b['widest']} characters)" for b in wide)
    assert wide == [], f"{len(wide)} blocks on {path} scroll sideways at 1,366 px:\n{listing}"


@pytest.mark.parametrize("path", [p for p in toc_pages() if re.search(r"book/(\d\d_|intro)", p)])
def test_every_figure_is_numbered_captioned_described_and_shown_at_its_size(visit, path):
    """On a 1,366-px screen: every image of the page's content sits in a numbered figure with a
    caption, has an alt text that describes it (not a file name), and is shown at the size it
    was drawn (not shrunk), from a PNG with twice the pixels (sharp)."""
    images = visit(path)["figures"]
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


# --- the drawing page: both networks in JavaScript, and any unit's arithmetic ---------------------

DRAWING_PAGE = "book/try_lenet5.html"
NEXT_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
NETWORKS = ("lenet5", "lenet5_classic")  # the article's network and the 1998 paper's
SCROLL_ENDS = """() => new Promise(done => {  // resolves once the page has not scrolled for 5 frames
    let last = -1, still = 0;
    const look = () => { still = scrollY === last ? still + 1 : 0; last = scrollY;
                         still >= 5 ? done() : requestAnimationFrame(look); };
    requestAnimationFrame(look); })"""


@pytest.fixture(scope="module")
def reference():
    """200 MNIST test digits with PyTorch's logits (the article's network) and penalties (the
    1998 network's distances) from the shipped, verified weights."""
    import torch

    from lenet_course.checkpoints import load_pretrained
    from lenet_course.data import load_raw, prepare_images
    from lenet_course.train import predict_logits

    images, labels = load_raw("test")
    images, labels = images[:200], labels[:200]
    x = prepare_images(images)
    logits = predict_logits(load_pretrained("lenet5"), x)
    with torch.no_grad():
        penalties = load_pretrained("lenet5_classic").penalties(x)
    return images, labels, logits, penalties, torch


def test_javascript_logits_equal_pytorch_on_200_test_digits(page, server, reference):
    images, labels, logits, _, torch = reference
    page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
    js = page.evaluate("digits => digits.map(d => window.lenet.predict(d).logits)",
                       images.flatten(1).tolist())
    js = torch.tensor(js)
    assert js.shape == (200, 10)
    assert (js - logits).abs().max() < 1e-4, f"largest difference {(js - logits).abs().max():.2e}"
    assert torch.equal(js.argmax(1), logits.argmax(1))
    assert page.console_errors == [] and page.external_requests == []


def test_the_1998_network_in_javascript_equals_pytorch_on_200_test_digits(page, server, reference):
    images, labels, _, penalties, torch = reference
    page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
    js = page.evaluate("""digits => digits.map(d => {
        const r = window.lenet.networks.lenet5_classic.predict(d);
        return [r.penalties, r.scores, r.prediction]; })""", images.flatten(1).tolist())
    distances = torch.tensor([d for d, _, _ in js])
    assert distances.shape == (200, 10)
    largest = (distances - penalties).abs().max()
    print(f"\n1998 network, 200 test digits: largest difference in distance {largest:.2e}")
    assert largest < 1e-4, f"largest difference {largest:.2e}"
    assert torch.equal(torch.tensor([s for _, s, _ in js]), -distances)
    assert torch.equal(torch.tensor([p for _, _, p in js]), penalties.argmin(1)), "a different class wins"
    assert page.console_errors == [] and page.external_requests == []


@pytest.mark.parametrize("name", NETWORKS)
def test_javascript_stages_have_the_python_shapes(page, server, name):
    import torch

    from lenet_course.checkpoints import load_pretrained

    page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
    sizes = page.evaluate("""name => { const r = lenet.networks[name].predict(lenet.samples[0].pixels);
        return Object.fromEntries(Object.entries(r.stages).map(([k, v]) => [k, v.length])); }""", name)
    with torch.no_grad():
        stages = load_pretrained(name).stages(torch.zeros(1, 1, 32, 32))
    assert sizes == {"input": 32 * 32, **{k: v[0].numel() for k, v in stages.items()}}


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
    from lenet_course.drawing import preprocess_drawing

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


def use_network(page, name):
    """Flip the page's switch to ``name`` with the mouse, as a reader would."""
    page.locator(f"input[name=lenet-network][value={name}]").check()
    page.wait_for_function(f"document.getElementById('lenet-demo').dataset.network === '{name}'")


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("digit,strokes", [
    ("1", [[(0.5, 0.15), (0.5, 0.85)]]),
    ("0", [[(0.5 + 0.22 * math.sin(2 * math.pi * t / 24), 0.5 - 0.32 * math.cos(2 * math.pi * t / 24))
            for t in range(25)]]),
    ("7", [[(0.25, 0.2), (0.72, 0.2), (0.45, 0.85)]]),
], ids=["vertical line", "closed loop", "seven"])
def test_strokes_drawn_with_the_mouse_are_read(page, server, digit, strokes, name):
    page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
    use_network(page, name)
    for stroke in strokes:
        draw(page, stroke)
    page.wait_for_function("document.getElementById('lenet-demo').dataset.prediction !== ''")
    assert page.locator("#lenet-demo").get_attribute("data-prediction") == digit
    assert page.locator(".lenet-winner .lenet-digit").inner_text() == digit
    page.click("#lenet-clear")
    page.wait_for_function("document.getElementById('lenet-demo').dataset.prediction === ''")
    assert page.console_errors == [] and page.external_requests == []


@pytest.mark.parametrize("name", NETWORKS)
def test_sample_digits_load_and_are_read(page, server, name):
    page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
    use_network(page, name)
    buttons = page.locator("#lenet-samples button")
    assert buttons.count() == 10
    right = 0
    for k in range(10):
        buttons.nth(k).click()
        page.evaluate(NEXT_FRAMES)  # the page redraws on the next animation frame
        right += page.locator("#lenet-demo").get_attribute("data-prediction") == str(k)
    assert right >= 9, f"only {right} of the 10 sample digits were read right"


# --- the unit panel: the page's numbers against PyTorch's ----------------------------------------

PANEL_DIGITS = (0, 1, 2, 3)  # MNIST test digits: a 7, a 2, a 1 and a 0


def largest_difference(js, python, where=""):
    """The largest difference between two nested results of unit arithmetic (same keys, same
    lengths, equal whole numbers and strings)."""
    if isinstance(python, dict):
        assert set(js) == set(python), f"{where}: keys differ: {set(js) ^ set(python)}"
        return max([largest_difference(js[k], python[k], f"{where}.{k}") for k in python] + [0.0])
    if isinstance(python, list):
        assert len(js) == len(python), f"{where}: {len(js)} values, PyTorch has {len(python)}"
        return max([largest_difference(a, b, where) for a, b in zip(js, python)] + [0.0])
    if isinstance(python, (str, bool)) or (isinstance(python, int) and not isinstance(python, float)):
        assert js == python, f"{where}: {js!r} against PyTorch's {python!r}"
        return 0.0
    return abs(js - python)


def shown(value: float) -> str:
    """A number as the panel writes it: three decimals, a real minus sign, no negative zero."""
    text = f"{abs(value):.3f}"
    return ("\u2212" if value < 0 and float(text) != 0 else "") + text


def click_unit(page, layer, index, shape):
    """Choose a unit as a reader does: click its place on its map, strip or output bar."""
    if layer == "output":
        page.locator(f"#lenet-bars [data-map='{index[0]}']").click()
        return
    node = page.locator(f"#lenet-layers [data-layer='{layer}'][data-map='{index[0] if len(index) == 3 else 0}']")
    if len(index) == 3:
        _, rows, cols = shape
        x, y = (index[2] + 0.5) / cols, (index[1] + 0.5) / rows
    else:
        x, y = (index[0] + 0.5) / math.prod(shape), 0.5
    box = node.bounding_box()  # its size; the click waits until it stops moving (the page may scroll)
    node.click(position={"x": x * box["width"], "y": y * box["height"]})


@pytest.mark.parametrize("name", NETWORKS)
def test_the_unit_panel_shows_pytorchs_numbers_for_units_of_every_layer(browser, server, name):
    """Units of every layer, chosen with the mouse on several test digits: everything the panel
    shows (patches, kernels, products, partial sums, windows, the largest products, biases,
    values, the softmax or the distances) equals PyTorch's within 1e-4, and so does each value
    against ``model.stages``."""
    import torch

    from lenet_course import web
    from lenet_course.checkpoints import load_pretrained
    from lenet_course.data import load_raw, prepare_images

    model = load_pretrained(name)
    images, _ = load_raw("test")
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    worst, checked = 0.0, 0
    try:
        page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
        use_network(page, name)
        for k in PANEL_DIGITS:
            page.evaluate("pixels => lenet.draw.loadDigit(pixels)", images[k].flatten().tolist())
            page.evaluate(NEXT_FRAMES)
            pixels = page.evaluate("lenet.draw.pixels")  # what the network saw, after preprocessing
            x = prepare_images(torch.tensor(pixels, dtype=torch.uint8).view(1, 28, 28))
            with torch.no_grad():
                stages = {layer: value[0] for layer, value in model.stages(x).items()}
            for layer, values in stages.items():
                shape = tuple(values.shape)
                if layer != "output" and len(shape) == 1:
                    shape = tuple(page.evaluate(f"lenet.networks['{name}'].shape['{layer}']"))
                maps = len(shape) == 3 and shape[1] > 1
                flat = values.flatten()
                strongest = int(flat.argmax())
                if maps:  # the strongest unit of the layer, and one that changes with the digit
                    per = shape[1] * shape[2]
                    units = [(strongest // per, strongest % per // shape[2], strongest % shape[2]),
                             ((k + 1) % shape[0], (3 * k + 1) % shape[1], (5 * k + 2) % shape[2])]
                else:
                    units = [(strongest,), ((7 * k + 3) % flat.numel(),)]
                for index in units:
                    click_unit(page, layer, index, shape)
                    chosen = page.evaluate("lenet.draw.selection")
                    assert chosen == {"layer": layer, "index": list(index)}, f"clicked {layer} {index}"
                    js = page.evaluate("lenet.draw.unit")
                    python = web.unit_arithmetic(model, x, layer, index)
                    where = f"{name}, test digit {k}, {layer} {index}"
                    difference = largest_difference(js, python, where)
                    assert difference < 1e-4, f"{where}: differs from PyTorch by {difference:.2e}"
                    assert abs(js["value"] - float(values[index])) < 1e-4, f"{where}: not stages()"
                    worst, checked = max(worst, difference), checked + 1
                    title = page.locator(".lenet-unit-title").inner_text()
                    number = js["distance"] if js["kind"] == "rbf" else js["value"]
                    assert title.endswith(shown(number)), f"{where}: the panel says {title!r}"
    finally:
        context.close()
    print(f"\n{name}: {checked} units, largest difference from PyTorch {worst:.2e}")
    assert errors == []


def test_units_are_chosen_with_the_keyboard(page, server):
    """Tab reaches each layer's maps, the arrow keys move between maps, and in the panel's
    picture of the map they move from unit to unit."""
    page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
    page.evaluate("lenet.draw.loadDigit(lenet.samples[3].pixels)")
    page.evaluate(NEXT_FRAMES)
    page.locator("#lenet-layers [data-layer='c3'][data-map='0']").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("lenet.draw.selection")["index"][0] == 0
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    selection = page.evaluate("lenet.draw.selection")
    assert selection["layer"] == "c3" and selection["index"][0] == 2
    assert page.evaluate("document.activeElement.dataset.map") == "2"
    page.locator(".lenet-unit-picker").focus()
    _, row, col = selection["index"]
    page.keyboard.press("ArrowDown" if row < 9 else "ArrowUp")
    page.keyboard.press("ArrowLeft" if col > 0 else "ArrowRight")
    moved = page.evaluate("lenet.draw.selection")["index"]
    assert moved == [2, row + 1 if row < 9 else row - 1, col - 1 if col > 0 else col + 1]
    page.keyboard.press("Tab")  # on to the next control; the output bars are reached the same way
    page.locator("#lenet-bars [data-map='0']").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.evaluate("lenet.draw.selection") == {"layer": "output", "index": [1]}
    assert page.console_errors == []


def test_the_1998_output_panel_shows_the_ten_bitmaps_and_distances(page, server):
    page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
    use_network(page, "lenet5_classic")
    page.locator("#lenet-samples button").nth(4).click()
    page.evaluate(NEXT_FRAMES)
    page.locator("#lenet-bars [data-map='2']").click()
    unit = page.evaluate("lenet.draw.unit")
    cards = page.locator("#lenet-unit .lenet-bitmaps .lenet-card")
    assert cards.count() == 10 and page.locator("#lenet-unit .lenet-bitmaps canvas").count() == 10
    for digit in range(10):
        assert cards.nth(digit).inner_text().startswith(f"{digit}: {unit['penalties'][digit]:.2f}")
    assert unit["winner"] == min(range(10), key=lambda d: unit["penalties"][d]) == 4
    assert "closest" in cards.nth(4).inner_text()
    cards.nth(7).click()  # a bitmap in the panel chooses that output unit
    assert page.evaluate("lenet.draw.selection") == {"layer": "output", "index": [7]}
    page.locator("#lenet-layers [data-layer='c3'][data-map='15']").click()  # Table I: all six
    assert page.locator("#lenet-unit .lenet-card.lenet-unused").count() == 0
    page.locator("#lenet-layers [data-layer='c3'][data-map='0']").click()  # Table I: three
    assert page.locator("#lenet-unit .lenet-card.lenet-unused").count() == 3
    assert page.console_errors == []


def test_the_page_works_on_a_phone_with_touch(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                                  is_mobile=True, device_scale_factor=2)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{server}/{DRAWING_PAGE}", wait_until="networkidle")
        page.locator("#lenet-pad").scroll_into_view_if_needed()  # the reader scrolls to it
        box = page.locator("#lenet-pad").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        overflow = ("() => document.getElementById('lenet-demo').scrollWidth"
                    " - document.getElementById('lenet-demo').clientWidth")
        assert page.evaluate(overflow) <= 1, "the demo is wider than a 390-px screen"
        cdp = context.new_cdp_session(page)
        x = box["x"] + box["width"] / 2
        points = [(x, box["y"] + box["height"] * (0.15 + 0.7 * t / 10)) for t in range(11)]
        start = [{"x": points[0][0], "y": points[0][1]}]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": start})
        for px, py in points[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": px, "y": py}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        page.wait_for_function("document.getElementById('lenet-demo').dataset.prediction !== ''")
        assert page.locator("#lenet-demo").get_attribute("data-prediction") == "1"
        # a tap on a map chooses a unit and brings the panel into view; a tap in the panel's
        # picture of the map chooses another
        page.locator("#lenet-layers [data-layer='s4'][data-map='3']").tap()
        assert page.evaluate("lenet.draw.selection")["layer"] == "s4"
        page.wait_for_function("Math.abs(document.getElementById('lenet-unit').getBoundingClientRect().top) < 120",
                               timeout=5000)  # the panel scrolls to the top (below the header)
        page.evaluate(SCROLL_ENDS)
        picker = page.locator(".lenet-unit-picker").bounding_box()
        page.touchscreen.tap(picker["x"] + picker["width"] * 0.9, picker["y"] + picker["height"] * 0.1)
        assert page.evaluate("lenet.draw.selection") == {"layer": "s4", "index": [3, 0, 4]}
        for name in NETWORKS:  # every panel of both networks fits the screen
            use_network(page, name)
            for layer in page.evaluate(f"lenet.networks['{name}'].layers.map(l => l.name)"):
                page.locator(f".lenet-unit-layers [data-layer='{layer}']").tap()
                assert page.evaluate(overflow) <= 1, f"{name}: the {layer} panel is wider than the screen"
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("name", NETWORKS)
def test_a_link_can_choose_the_network_a_digit_and_a_unit(page, server, name):
    page.goto(f"{server}/{DRAWING_PAGE}#net={name}&sample=7&unit=c3,4,3,3", wait_until="networkidle")
    assert page.evaluate("lenet.draw.network") == name
    assert page.evaluate("lenet.draw.selection") == {"layer": "c3", "index": [4, 3, 3]}
    assert page.locator("#lenet-demo").get_attribute("data-prediction") == "7"
    assert page.locator(".lenet-unit-title").inner_text().startswith("C3 map 4, row 3, column 3")
    assert page.console_errors == []


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
    print("\n" + course_site.site_size(SITE))
    assert 0 < course_site.mathjax_bytes(SITE) <= 3 * 2**20
    static = SITE / "_static"
    assert not (static / "sre").exists() and not (static / "tex-svg-full.js").exists()
