"""What the website's drawing page needs from Python: the network's weights and a few digits.

``python -m lenet_course.web OUT_DIR`` (the book build does the same) writes ``OUT_DIR/lenet5_data.js``:
the shipped LeNet-5's weights, read through :func:`lenet_course.checkpoints.load_pretrained`
(so the file's SHA-256 and every tensor shape are checked first), as little-endian float32 in
base64, with the normalisation constants and one MNIST test digit per class. It is a script
that sets ``window.LENET5_DATA``, so the page also works opened from disk. The forward pass
that uses it is ``book/_static/lenet5.js``. ``python -m lenet_course.web --bench`` times that
forward pass in headless Chromium on the built website. Introduced on the drawing page.
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import json
import threading
from pathlib import Path

import numpy as np

from .checkpoints import load_pretrained, pretrained_metadata
from .data import MNIST_MEAN, MNIST_STD, load_raw

DATA_FILE = "lenet5_data.js"


def export_weights(name: str = "lenet5") -> dict:
    """The verified checkpoint's tensors as ``{name: {"shape": [...], "data": base64}}``."""
    model = load_pretrained(name)
    tensors = {}
    for key, tensor in model.state_dict().items():
        values = tensor.detach().cpu().contiguous().numpy().astype("<f4")
        tensors[key] = {"shape": list(values.shape),
                        "data": base64.b64encode(values.tobytes()).decode("ascii")}
    return tensors


def sample_digits() -> list[dict]:
    """The first MNIST test digit of each class: ``{"label": 3, "pixels": [784 grey levels]}``."""
    images, labels = load_raw("test")
    samples = []
    for digit in range(10):
        index = int(np.flatnonzero(labels.numpy() == digit)[0])
        samples.append({"label": digit, "index": index,
                        "pixels": images[index].flatten().tolist()})
    return samples


def site_data(name: str = "lenet5") -> dict:
    """Everything the drawing page loads: weights, normalisation, checkpoint facts, samples."""
    meta = pretrained_metadata(name)
    return {
        "checkpoint": {"name": name, "sha256": meta["sha256"],
                       "test_accuracy": meta["test_accuracy"]},
        "normalisation": {"mean": MNIST_MEAN, "std": MNIST_STD},
        "tensors": export_weights(name),
        "samples": sample_digits(),
    }


def write_site_data(folder: Path | str, name: str = "lenet5") -> Path:
    """Write ``folder/lenet5_data.js`` and return its path."""
    path = Path(folder) / DATA_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "window.LENET5_DATA = " + json.dumps(site_data(name), separators=(",", ":")) + ";\n"
    path.write_text(text)
    return path


BROWSER_TARGET_MS = 20.0  # one forward pass on the drawing page should take less than this


def bench_browser(site: Path | str = "_build/html", repeats: int = 200,
                  chromium: str = "/usr/bin/chromium") -> dict:
    """Milliseconds per ``lenet.predict`` (preprocessed digit -> probabilities and every
    layer) and per ``lenet.preprocess`` of a 280x280 drawing, in headless Chromium."""
    # deferred: playwright is heavy and only this benchmark needs it
    from playwright.sync_api import sync_playwright

    quiet = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/book/try_lenet5.html",
                      wait_until="networkidle")
            times = page.evaluate("""n => {
                const digit = window.lenet.samples[3].pixels;
                const drawing = new Array(280 * 280).fill(0);
                for (let y = 40; y < 240; y++) for (let x = 130; x < 150; x++) drawing[y * 280 + x] = 255;
                for (let i = 0; i < 10; i++) window.lenet.predict(digit);  // warm up the JIT
                let t0 = performance.now();
                for (let i = 0; i < n; i++) window.lenet.predict(digit);
                const predict = (performance.now() - t0) / n;
                t0 = performance.now();
                for (let i = 0; i < n / 10; i++) window.lenet.preprocess(drawing, 280, 280);
                return {predict_ms: predict, preprocess_ms: (performance.now() - t0) / (n / 10)};
            }""", repeats)
            browser.close()
    finally:
        httpd.shutdown()
    return times


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", help="where to write lenet5_data.js")
    parser.add_argument("--bench", action="store_true",
                        help="time the drawing page's forward pass in Chromium (needs `make book`)")
    args = parser.parse_args()
    if args.bench:
        t = bench_browser()
        print(f"{'':<34}{'measured':>10}{'target':>10}")
        print(f"{'forward pass, one digit (ms)':<34}{t['predict_ms']:>10.2f}{BROWSER_TARGET_MS:>10.1f}")
        print(f"{'preprocess a 280x280 drawing (ms)':<34}{t['preprocess_ms']:>10.2f}{'':>10}")
    elif args.folder is not None:
        print(f"wrote {write_site_data(args.folder)}")
    else:
        parser.error("give a folder to write lenet5_data.js into, or --bench")
