"""What the website's drawing page needs from Python: both networks, their sizes, a few digits,
and the arithmetic of any one unit.

``python -m lenet_course.web OUT_DIR`` (the book build does the same) writes ``OUT_DIR/lenet5_data.js``:
the weights of the shipped LeNet-5 and of the 1998 network, each read through
:func:`lenet_course.checkpoints.load_pretrained` (so the file's SHA-256 and every tensor shape are
checked first), as little-endian float32 in base64; the numbers the JavaScript shares with Python
(the input sizes and preprocessing constants, each layer's output shape from
:func:`lenet_course.shapes.trace_shapes` and its receptive field, the 1998 network's Table I,
squashing constants and digit bitmaps); and one MNIST test digit per class. It is a script that
sets ``window.LENET5_DATA``, so the page also works opened from disk.

The forward passes that use it are ``book/_static/lenet5.js`` and ``lenet5_classic.js``;
:func:`unit_arithmetic` is what the page's unit panel shows, and ``lenet5_units.js`` mirrors it
(a browser test holds the two equal). ``python -m lenet_course.web --bench`` times both networks
on the built website in headless Chromium. Introduced on the drawing page.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import http.server
import json
import sys
import threading
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import classic
from .checkpoints import load_pretrained, pretrained_metadata
from .classic import (
    LeNet5Classic,
    PartialConv2d,
    RBFOutput,
    Subsampling,
    to_paper_scale,
)
from .data import load_raw
from .drawing import DIGIT_BOX, INK_THRESHOLD
from .inputs import INPUT_SIZE, MNIST_MEAN, MNIST_SIZE, MNIST_STD, PAD
from .shapes import receptive_fields, trace_shapes

DATA_FILE = "lenet5_data.js"
NETWORKS = ("lenet5", "lenet5_classic")  # the article's network, then the 1998 paper's
TOP_PRODUCTS = 5  # a fully connected unit's panel lists its five largest products by size


def export_weights(name: str = "lenet5") -> dict:
    """The verified checkpoint's tensors as ``{name: {"shape": [...], "data": base64}}``."""
    model = load_pretrained(name)
    tensors = {}
    for key, tensor in model.state_dict().items():
        values = tensor.detach().cpu().contiguous().numpy().astype("<f4")
        tensors[key] = {"shape": list(values.shape),
                        "data": base64.b64encode(values.tobytes()).decode("ascii")}
    return tensors


def layer_table(model: nn.Module) -> list[dict]:
    """Each layer in order: name, kind (its class), output shape without the batch dimension
    (from a live shape trace) and receptive field on the 32x32 input (size, jump)."""
    x = torch.zeros(1, 1, INPUT_SIZE, INPUT_SIZE)
    fields = {f.name: f for f in receptive_fields(model, INPUT_SIZE)}
    return [{"name": row.name, "kind": row.kind, "shape": list(row.output_shape[1:]),
             "field": {"size": fields[row.name].size, "jump": fields[row.name].jump}}
            for row in trace_shapes(model, x)]


def network_constants(model: nn.Module) -> dict:
    """The numbers a network's JavaScript needs besides its weights."""
    if isinstance(model, LeNet5Classic):
        return {"activation": "squash", "A": classic.A, "S": classic.S,
                "PAPER_BACKGROUND": classic.PAPER_BACKGROUND, "PAPER_INK": classic.PAPER_INK,
                "C3_TABLE": [list(row) for row in classic.C3_TABLE],
                "DIGIT_BITMAPS": [list(rows) for rows in classic.DIGIT_BITMAPS]}
    return {"activation": "relu"}


def sample_digits() -> list[dict]:
    """The first MNIST test digit of each class: ``{"label": 3, "pixels": [784 grey levels]}``."""
    images, labels = load_raw("test")
    samples = []
    for digit in range(10):
        index = int(np.flatnonzero(labels.numpy() == digit)[0])
        samples.append({"label": digit, "index": index,
                        "pixels": images[index].flatten().tolist()})
    return samples


def network_data(name: str) -> dict:
    """One network for the page: checkpoint facts, layers, constants and weights."""
    meta = pretrained_metadata(name)
    model = load_pretrained(name)
    return {
        "checkpoint": {"name": name, "model": meta["model"], "sha256": meta["sha256"],
                       "test_accuracy": meta["test_accuracy"]},
        "layers": layer_table(model),
        "constants": network_constants(model),
        "tensors": export_weights(name),
    }


def site_data(names: tuple[str, ...] = NETWORKS) -> dict:
    """Everything the drawing page loads: the input constants, the networks, the sample digits."""
    return {
        "constants": {"MNIST_SIZE": MNIST_SIZE, "INPUT_SIZE": INPUT_SIZE, "PAD": PAD,
                      "DIGIT_BOX": DIGIT_BOX, "INK_THRESHOLD": INK_THRESHOLD,
                      "MNIST_MEAN": MNIST_MEAN, "MNIST_STD": MNIST_STD},
        "networks": {name: network_data(name) for name in names},
        "samples": sample_digits(),
    }


def write_site_data(folder: Path | str, names: tuple[str, ...] = NETWORKS) -> Path:
    """Write ``folder/lenet5_data.js`` and return its path."""
    path = Path(folder) / DATA_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "window.LENET5_DATA = " + json.dumps(site_data(names), separators=(",", ":")) + ";\n"
    path.write_text(text)
    return path


# --- one unit's arithmetic, as the page's panel shows it ---------------------------------------

def network_input(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """What C1 reads from the course-normalised x (N, 1, 32, 32): x itself, or for the 1998
    network x rescaled to the paper's range (background -0.1, ink 1.175)."""
    return to_paper_scale(x) if isinstance(model, LeNet5Classic) else x


def _listed(t: torch.Tensor) -> list:
    return t.detach().double().tolist()


def _conv_unit(module: nn.Module, below: torch.Tensor, o: int, r: int, c: int) -> dict:
    """A convolution unit: one 5x5 window of each input map it reads, times its kernel."""
    if isinstance(module, PartialConv2d):  # the 1998 C3: only the maps of Table I
        weight = module.full_weight()  # (16, 6, 5, 5), zero where not connected
        slots = set(module.slots.tolist())
        inputs = [i for i in range(module.in_maps) if o * module.in_maps + i in slots]
    else:
        weight = module.weight  # (O, C, k, k)
        inputs = list(range(weight.shape[1]))
    k = weight.shape[-1]
    patches = below[inputs, r:r + k, c:c + k]  # (n, k, k) the windows it reads
    kernels = weight[o, inputs]  # (n, k, k)
    products = patches * kernels
    partials = products.sum(dim=(1, 2))  # one sum of k*k products per input map
    bias = float(module.bias[o])
    return {"kind": "conv", "inputs": inputs, "window": [r, c],
            "patches": _listed(patches.flatten(1)), "kernels": _listed(kernels.flatten(1)),
            "products": _listed(products.flatten(1)), "partials": _listed(partials),
            "bias": bias, "pre": float(partials.sum()) + bias}


def _pool_unit(module: nn.Module, below: torch.Tensor, m: int, r: int, c: int) -> dict:
    """A 2x2 unit: max pooling (the article) or the paper's trainable subsampling."""
    values = below[m, 2 * r:2 * r + 2, 2 * c:2 * c + 2].flatten()  # (4,) row by row
    unit = {"window": [2 * r, 2 * c], "values": _listed(values)}
    if isinstance(module, Subsampling):
        total, coefficient, bias = float(values.sum()), float(module.coefficient[m]), float(module.bias[m])
        return {"kind": "subsampling", **unit, "sum": total, "coefficient": coefficient,
                "bias": bias, "pre": total * coefficient + bias}
    return {"kind": "maxpool", **unit, "largest": int(values.argmax())}


def _dense_unit(module: nn.Module, below: torch.Tensor, u: int) -> dict:
    """A unit that reads every value below (F5, F6, the logits; the 1998 C5): the five largest
    products by size, the others as one sum, and the bias."""
    flat = below.flatten()  # (400,) for F5, in the order flatten uses
    products = module.weight.reshape(module.weight.shape[0], -1)[u] * flat
    top = products.abs().topk(TOP_PRODUCTS).indices
    others = torch.ones_like(products, dtype=torch.bool)
    others[top] = False
    bias = float(module.bias[u])
    return {"kind": "dense",
            "top": [{"input": int(i), "value": float(flat[i]),
                     "weight": float(module.weight.reshape(len(module.weight), -1)[u, i]),
                     "product": float(products[i])} for i in top],
            "others": int(others.sum()), "rest": float(products[others].sum()),
            "bias": bias, "pre": float(products.sum()) + bias}


def _rbf_unit(module: RBFOutput, below: torch.Tensor, k: int) -> dict:
    """An RBF output unit: the squared distance from F6's 84 values to digit k's bitmap."""
    penalties = ((below[None] - module.centres) ** 2).sum(dim=1)  # (10,)
    return {"kind": "rbf", "state": _listed(below), "centre": _listed(module.centres[k]),
            "squares": _listed((below - module.centres[k]) ** 2), "distance": float(penalties[k]),
            "penalties": _listed(penalties), "winner": int(penalties.argmin())}


def unit_arithmetic(model: nn.Module, x: torch.Tensor, layer: str, index: tuple[int, ...]) -> dict:
    """How unit ``index`` of ``layer`` is computed from the layer below, with the network's numbers.

    ``x`` is one course-normalised digit (1, 1, 32, 32); ``index`` is (map, row, column) in a
    layer of maps and (unit,) in a layer of units. Works for :class:`~lenet_course.models.LeNet5`
    and :class:`~lenet_course.classic.LeNet5Classic`. Every result has ``layer``, ``index``,
    ``kind``, ``value`` (the unit's entry in ``model.stages(x)``) and ``field`` (its receptive
    field on the input, top, left, bottom, right); the rest depends on the kind:

    - ``conv`` (C1, C3): per input map read, the 5x5 patch, kernel, products and their sum
      (``partials``); ``bias``; ``pre`` = the partial sums + bias, before the activation.
    - ``maxpool`` / ``subsampling`` (S2, S4): the four ``values`` of the 2x2 window, and the
      ``largest`` (max pooling) or their ``sum``, ``coefficient``, ``bias`` and ``pre``.
    - ``dense`` (F5, F6, the logits; the 1998 C5 and F6): the five largest products by size
      (``top``), the ``others`` as one sum (``rest``), ``bias``, ``pre``; for the logits also
      ``logits``, ``probabilities`` and the ``winner``.
    - ``rbf`` (the 1998 output): F6's ``state``, digit k's bitmap (``centre``), the 84
      ``squares``, the ``distance`` (= minus the value), all ten ``penalties``, the ``winner``.

    ``book/_static/lenet5_units.js`` computes the same in the browser. Introduced on the
    drawing page; the data-flow chapter's ``unitpath.unit_path`` does this arithmetic along one path.
    """
    model.eval()
    with torch.no_grad():
        stages = {"input": network_input(model, x)[0],
                  **{name: value[0] for name, value in model.stages(x).items()}}
        names = list(stages)
        below, module = stages[names[names.index(layer) - 1]], getattr(model, layer)
        field = {f.name: f for f in receptive_fields(model, INPUT_SIZE)}[layer]
        at = tuple(index[1:]) if len(index) == 3 else (0, 0)  # (row, column) of a map's unit
        if isinstance(module, (nn.Conv2d, PartialConv2d)) and stages[layer].dim() == 3:
            unit = _conv_unit(module, below, *index)
        elif isinstance(module, (nn.MaxPool2d, Subsampling)):
            unit = _pool_unit(module, below, *index)
        elif isinstance(module, RBFOutput):
            unit = _rbf_unit(module, below, index[0])
        else:  # nn.Linear, or the 1998 C5: a convolution whose window is its whole input
            unit = _dense_unit(module, below, index[0])
            if layer == names[-1]:  # the article's logits
                logits = stages[layer]
                unit.update(logits=_listed(logits), probabilities=_listed(torch.softmax(logits, 0)),
                            winner=int(logits.argmax()))
        if "pre" in unit and layer != names[-1]:
            unit["activation"] = "squash" if isinstance(model, LeNet5Classic) else "relu"
        value = float(stages[layer][tuple(index)])
    return {"layer": layer, "index": list(index), **unit, "value": value,
            "field": list(field.box(*at))}


# --- the browser benchmark ---------------------------------------------------------------------

BROWSER_TARGET_MS = 20.0  # one update of the drawing page (network, maps and panel) in under this

BENCH_SCRIPT = """n => {
    const digit = window.lenet.samples[3].pixels;
    const drawing = new Array(280 * 280).fill(0);
    for (let y = 40; y < 240; y++) for (let x = 130; x < 150; x++) drawing[y * 280 + x] = 255;
    const time = (f, repeats) => {  // the median of single calls: robust to a busy machine
        for (let i = 0; i < 5; i++) f();  // warm up the JIT
        const times = [];
        for (let i = 0; i < repeats; i++) {
            const t0 = performance.now();
            f();
            times.push(performance.now() - t0);
        }
        return times.sort((a, b) => a - b)[repeats >> 1];
    };
    const draw = window.lenet.draw, out = {};
    draw.loadDigit(digit);
    for (const name of Object.keys(window.lenet.networks)) {
        const net = window.lenet.networks[name];
        draw.useNetwork(name);
        const unit = (layer) => (layer.shape.length === 3 ? [0, 1, 1] : [1]);
        for (const layer of net.layers) {  // warm up every panel once the page is built
            draw.select(layer.name, unit(layer));
            for (let i = 0; i < 5; i++) draw.update();
        }
        const update = net.layers.map(layer => {  // one panel per layer: the page's own update
            draw.select(layer.name, unit(layer));
            return time(draw.update, Math.max(5, n / 10));
        });
        out[name] = {predict_ms: time(() => net.predict(digit), n),
                     update_ms: Math.max(...update), layers: net.layers.map(l => l.name)};
    }
    out.preprocess_ms = time(() => window.lenet.preprocess(drawing, 280, 280), n / 10);
    return out;
}"""


def bench_browser(site: Path | str = "_build/html", repeats: int = 200,
                  chromium: str = "/usr/bin/chromium") -> dict:
    """Milliseconds (the median of single calls), for each network, per ``predict`` (a
    preprocessed digit -> every layer) and per page update (read the canvas, preprocess,
    predict, draw every map and the unit panel; the slowest of the panels of all its layers),
    and per ``lenet.preprocess`` of a 280x280 drawing, in headless Chromium."""
    # deferred: playwright is heavy and only this benchmark needs it
    from playwright.sync_api import sync_playwright

    with serve(site) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(f"{url}/book/try_lenet5.html", wait_until="networkidle")
        times = page.evaluate(BENCH_SCRIPT, repeats)
        browser.close()
    return times


@contextlib.contextmanager
def serve(folder: Path | str):
    """Serve ``folder`` on a free port of 127.0.0.1 (no log lines) while the block runs; yields
    its URL. The browser benchmark and the website tests read the built site through it."""
    quiet = type("QuietHandler", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(quiet, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


def format_bench(times: dict) -> str:
    """The benchmark as a small table: one column per network, and the target."""
    names = [name for name in NETWORKS if name in times]
    lines = [f"{'(ms, median of single calls)':<34}" + "".join(f"{n:>16}" for n in names) + f"{'target':>8}"]
    for key, label in (("predict_ms", "forward pass, one digit"),
                       ("update_ms", "page update, slowest unit panel")):
        target = f"{BROWSER_TARGET_MS:>8.1f}" if key == "update_ms" else ""
        lines.append(f"{label:<34}" + "".join(f"{times[n][key]:>16.2f}" for n in names) + target)
    lines.append(f"{'preprocess a 280x280 drawing':<34}{times['preprocess_ms']:>16.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Write the drawing page's data into a folder, or time the page in Chromium."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, nargs="?", help="where to write lenet5_data.js")
    parser.add_argument("--bench", action="store_true",
                        help="time the drawing page's two networks in Chromium (needs `make book`)")
    args = parser.parse_args(argv)
    if args.bench:
        print(format_bench(bench_browser()))
    elif args.folder is not None:
        print(f"wrote {write_site_data(args.folder)}")
    else:
        parser.error("give a folder to write lenet5_data.js into, or --bench")
    return 0


if __name__ == "__main__":
    sys.exit(main())
