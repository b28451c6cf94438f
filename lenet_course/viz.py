"""Every figure of the course: digits, kernels, feature maps, curves, misclassified examples.

Each function returns its matplotlib Figure. Call :func:`use_book_style` once at the top of a
chapter for the book's look; importing this module changes nothing.
"""

from __future__ import annotations

import math
import re
from html import escape

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import animation
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.ticker import MaxNLocator

from .data import to_pixels
from .inputs import INPUT_SIZE
from .models import LeNet5
from .shapes import side_of, trace_shapes
from .style import (
    DIGIT_CMAP,
    FIGURE_WIDTH,
    HIGHLIGHT,
    MAGNITUDE_CMAP,
    MIN_FONT_PT,
    NEUTRAL,
    RIGHT,
    SIGNED_CMAP,
    WRONG,
)
from .train import History, predict_logits
from .unitpath import UnitPath


def cropped_start(values, step: float, margin: float = 0.0) -> float:
    """Where a cropped axis starts: the largest multiple of ``step`` at least ``margin`` below the
    smallest of ``values``. Label the axis with it ("axis from ..."), so that the crop is said."""
    return round(math.floor((min(values) - margin) / step) * step, 10)


def _as_pixels(images: torch.Tensor) -> np.ndarray:
    """Images as (N, H, W) floats in [0, 1] for display: accepts raw uint8 or normalised floats."""
    images = torch.as_tensor(images).detach().cpu()
    if images.dim() == 4:
        images = images[:, 0]
    if images.dim() == 2:
        images = images[None]
    if images.dtype == torch.uint8:
        return images.float().numpy() / 255.0
    return to_pixels(images.float()).numpy()


def show_digits(images: torch.Tensor, labels: torch.Tensor | None = None, predictions: torch.Tensor | None = None,
                ncols: int = 10, title: str | None = None, size: float = 0.72, frame: bool = False) -> plt.Figure:
    """A grid of digits; ``labels`` (and ``predictions``) label each one, wrong ones in vermillion
    with the prediction written out, so colour is never the only cue. ``frame=True`` outlines
    each image, so that where a digit sits in its frame shows (a moved digit, say).

    ``images`` is (N, 28, 28) uint8 or (N, 1, 32, 32) normalised floats.
    """
    pixels = _as_pixels(images)
    n = len(pixels)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    text_rows = 2 if predictions is not None else (1 if labels is not None else 0)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.17 * text_rows) * nrows + 0.3),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(pixels[i], cmap=DIGIT_CMAP, vmin=0, vmax=1)
        if frame:
            ax.axis("on")
            ax.set(xticks=[], yticks=[])
            ax.spines[:].set_color("0.5")
        if predictions is not None and labels is not None:
            wrong = int(predictions[i]) != int(labels[i])
            ax.set_title(f"true {int(labels[i])}\npred {int(predictions[i])}", fontsize=MIN_FONT_PT,
                         color=WRONG if wrong else "black")
        elif labels is not None:
            ax.set_title(str(int(labels[i])), fontsize=MIN_FONT_PT + 1)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def plot_history(history: History, title: str = "Training LeNet-5 on MNIST") -> plt.Figure:
    """Loss (left) and accuracy (right) per epoch, on the training and validation splits,
    from :func:`lenet_course.train.fit`."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(FIGURE_WIDTH, 3.2))
    ax_loss.plot(history.epochs, history.train_loss, "o-", label="training")
    ax_loss.plot(history.epochs, history.val_loss, "s--", label="validation")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss (log scale)", title="Loss", yscale="log")
    ax_loss.legend()
    ax_acc.plot(history.epochs, [100 * a for a in history.train_acc], "o-", label="training")
    ax_acc.plot(history.epochs, [100 * a for a in history.val_acc], "s--", label="validation")
    ax_acc.set(xlabel="epoch", title="Accuracy")
    ax_acc.set_ylabel(f"accuracy (%, axis from {ax_acc.get_ylim()[0]:.3g})")  # cropped: say so
    ax_acc.legend()
    for ax in (ax_loss, ax_acc):
        ax.set_xticks(history.epochs)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return fig


def show_misclassified(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, max_items: int = 30,
                       ncols: int = 10) -> plt.Figure:
    """The test digits ``model`` gets wrong (up to ``max_items``), with true and predicted labels."""
    logits = predict_logits(model, X).cpu()
    predictions = logits.argmax(dim=1)
    wrong = torch.nonzero(predictions != y.cpu()).flatten()
    shown = wrong[:max_items]
    if len(shown) == 0:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no misclassified digits", ha="center")
        return fig
    title = f"{len(wrong)} of {len(y):,} test digits misclassified (first {len(shown)} shown)"
    return show_digits(X[shown], y[shown], predictions[shown], ncols=ncols, title=title)


def symmetric_limit(values: torch.Tensor | np.ndarray) -> float:
    """The largest absolute value: the colour range (-limit, limit) centres a diverging map on 0."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return float(np.abs(np.asarray(values, dtype=float)).max()) or 1.0


def show_kernels(weight: torch.Tensor, title: str = "Kernels", ncols: int = 8,
                 size: float = 0.8) -> plt.Figure:
    """Convolution kernels (out, in, k, k) as images, one per (out, in) pair, on one diverging
    colour scale centred on 0 (white), with its colour bar."""
    w = weight.detach().cpu().float()
    n_out, n_in = w.shape[:2]
    limit = symmetric_limit(w)
    ncols = min(ncols, n_out) if n_in == 1 else n_in
    rows = math.ceil(n_out / ncols) if n_in == 1 else n_out
    fig, axes = plt.subplots(rows, ncols, figsize=(size * ncols + 0.9, (size + 0.2) * rows + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for o in range(n_out):
        for i in range(n_in):
            ax = axes.flat[o] if n_in == 1 else axes[o, i]
            im = ax.imshow(w[o, i].numpy(), cmap=SIGNED_CMAP, vmin=-limit, vmax=limit)
            ax.set_title(f"map {o}" if n_in == 1 else f"{o}←{i}", fontsize=MIN_FONT_PT)
    fig.colorbar(im, ax=axes, shrink=0.8, label="weight")
    fig.suptitle(title)
    return fig


def show_feature_maps(maps: torch.Tensor, title: str = "Feature maps", ncols: int = 8,
                      size: float = 0.78) -> plt.Figure:
    """Feature maps (C, H, W) of one image, on one shared colour scale with its colour bar, so
    that brightness compares across maps: a diverging scale centred on 0 if any value is
    negative (before the activation), else a perceptual one from 0 up."""
    maps = maps.detach().cpu().float()
    c = maps.shape[0]
    ncols = min(ncols, c)
    nrows = math.ceil(c / ncols)
    signed = bool((maps < 0).any())
    if signed:
        limit = symmetric_limit(maps)
        cmap, vmin, vmax, label = SIGNED_CMAP, -limit, limit, "value (0 = white)"
    else:
        cmap, vmin, vmax, label = MAGNITUDE_CMAP, 0.0, float(maps.max()) or 1.0, "activation"
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 1.0, (size + 0.22) * nrows + 0.45),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < c:
            im = ax.imshow(maps[i].numpy(), cmap=cmap, vmin=vmin, vmax=vmax)
            ax.set_title(f"map {i}", fontsize=MIN_FONT_PT)
    fig.colorbar(im, ax=axes, shrink=0.85, label=label)
    fig.suptitle(f"{title} ({c} maps of {maps.shape[1]}x{maps.shape[2]}, one scale)")
    return fig


def _operation(module: torch.nn.Module, to_units: bool) -> str:
    """The short label of the operation a module performs, window sizes included."""
    kind = type(module).__name__

    def window(size) -> str:
        return f"{side_of(size)}x{side_of(size)}"

    if kind == "Conv2d":
        return f"{window(module.kernel_size)}\nconv"
    if kind == "PartialConv2d":
        return f"{window(module.kernel_size)}\nconv\n(Table I)"
    if kind == "MaxPool2d":
        return f"{window(module.kernel_size)}\nmax\npool"
    if kind == "Subsampling":
        return "2x2\nsub-\nsample"
    if kind == "RBFOutput":
        return "RBF"
    if kind == "Linear":
        return "flatten\n+ full" if to_units else "full"
    return kind


def draw_architecture(model: torch.nn.Module | None = None, title: str | None = "LeNet-5") -> plt.Figure:
    """The architecture diagram (the article's Figure 1), drawn from a live shape trace of ``model``.

    Each stage of maps is a stack of squares sized by its width (channels@height x width); each
    fully connected layer a bar labelled with its units; between them, the operation with its
    window size ("5x5 conv", "2x2 max pool"). Nothing is typed in: shapes come from
    :func:`lenet_course.shapes.trace_shapes` and operations from the modules themselves.
    """
    model = LeNet5() if model is None else model
    device = next(model.parameters()).device
    rows = trace_shapes(model, torch.zeros(1, 1, INPUT_SIZE, INPUT_SIZE, device=device))
    stages = [("INPUT", None, (1, 1, INPUT_SIZE, INPUT_SIZE))]
    stages += [(r.name.upper(), getattr(model, r.name), r.output_shape) for r in rows]
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 2.5 if title else 2.2))
    inch_per_pixel, step, bar = 0.95 / INPUT_SIZE, 0.045, 0.14
    x, previous_right, previous_was_maps = 0.0, None, False
    for name, module, shape in stages:
        is_maps = len(shape) == 4
        operation = _operation(module, to_units=previous_was_maps and not is_maps) if module else ""
        if previous_right is not None:
            gap = max(0.5, 0.22 + 0.075 * max(len(line) for line in operation.split("\n")))
            x = previous_right + gap
            ax.add_patch(FancyArrowPatch((previous_right + 0.03, 0.12), (x - 0.03, 0.12), arrowstyle="-|>",
                                         mutation_scale=9, color="0.3", lw=1, zorder=20))
            ax.text((previous_right + x) / 2, 0.02, operation, ha="center", va="top", fontsize=MIN_FONT_PT,
                    color="0.15", linespacing=1.1)
        if is_maps:  # (1, C, H, W): a stack of at most 6 squares
            c, h = shape[1], shape[2]
            side = max(h * inch_per_pixel, 0.05)
            n_drawn = min(c, 6)
            for k in range(n_drawn):
                ax.add_patch(Rectangle((x + step * k, 0.5 - side / 2 - step * k), side, side, facecolor="#cfe2f3",
                                       edgecolor="#1f4e79", lw=0.7, zorder=10 - k))
            width = side + step * (n_drawn - 1)
            label = f"{c}@{h}x{shape[3]}"
        else:  # (1, n): a bar
            n = shape[1]
            side = max(0.2, 1.0 * (n / 120) ** 0.5)
            width = bar
            ax.add_patch(Rectangle((x, 0.5 - side / 2), width, side, facecolor="#fbe3c8", edgecolor="#a35a00",
                                   lw=0.7))
            label = str(n)
        ax.text(x + width / 2, 1.12, name, ha="center", va="bottom", fontsize=10, weight="bold")
        ax.text(x + width / 2, -0.62, label, ha="center", va="top", fontsize=MIN_FONT_PT)
        previous_right, previous_was_maps = x + width, is_maps
    ax.set_xlim(-0.05, previous_right + 0.15)
    ax.set_ylim(-0.95, 1.35)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(f"{title}: maps as channels@height x width; fully connected layers as units")
    return fig


def animate_convolution(image: torch.Tensor, kernel: torch.Tensor, bias: float = 0.0, frames: int = 60,
                        interval: int = 120):
    """An animation of a k x k window sliding over ``image`` (H, W) while the output map fills in.

    Returns a matplotlib ``FuncAnimation``; in a notebook show it with
    ``IPython.display.HTML(animation_html(anim))``, which plays on a static page with no server.
    Introduced in the C1 chapter.
    """
    image = image.detach().cpu().float()
    kernel = kernel.detach().cpu().float()
    k = kernel.shape[-1]
    out = torch.nn.functional.conv2d(image[None, None], kernel[None, None], bias=torch.tensor([bias]))[0, 0]
    oh, ow = out.shape
    positions = torch.linspace(0, oh * ow - 1, frames).round().long().tolist()

    fig, (ax_in, ax_k, ax_out) = plt.subplots(1, 3, figsize=(FIGURE_WIDTH, 2.9),
                                              gridspec_kw={"width_ratios": [32, 12, 28]})
    ax_in.imshow(image.numpy(), cmap=DIGIT_CMAP)
    ax_in.set_title(f"input {image.shape[0]}x{image.shape[1]}")
    window = Rectangle((-0.5, -0.5), k, k, fill=False, edgecolor=HIGHLIGHT, lw=2.5)
    ax_in.add_patch(window)
    kernel_limit = symmetric_limit(kernel)
    kernel_image = ax_k.imshow(kernel.numpy(), cmap=SIGNED_CMAP, vmin=-kernel_limit, vmax=kernel_limit)
    ax_k.set_title(f"kernel {k}x{k}")
    shown = torch.full_like(out, float("nan"))
    limit = symmetric_limit(out)  # the map is signed (before ReLU): 0 is white
    unfilled = plt.get_cmap(SIGNED_CMAP).with_extremes(bad="0.8")  # grey until computed
    canvas = ax_out.imshow(shown.numpy(), cmap=unfilled, vmin=-limit, vmax=limit)
    ax_out.set_title(f"feature map {oh}x{ow}")
    fig.colorbar(kernel_image, ax=ax_k, location="bottom", label="weight", ticks=[-kernel_limit, 0, kernel_limit],
                 format="%.2g")  # each on its own scale, 0 = white
    fig.colorbar(canvas, ax=ax_out, shrink=0.8, label="map value")
    for ax in (ax_in, ax_k, ax_out):
        ax.set_xticks([])
        ax.set_yticks([])
    marker = Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor=HIGHLIGHT, lw=2)
    ax_out.add_patch(marker)

    def draw(frame: int):
        p = positions[frame]
        i, j = divmod(p, ow)
        flat = shown.view(-1)
        flat[: p + 1] = out.view(-1)[: p + 1]
        canvas.set_data(shown.numpy())
        window.set_xy((j - 0.5, i - 0.5))
        marker.set_xy((j - 0.5, i - 0.5))
        return canvas, window, marker

    anim = animation.FuncAnimation(fig, draw, frames=len(positions), interval=interval, blit=False)
    plt.close(fig)
    return anim


def animation_html(anim, alt: str, default_mode: str = "once") -> str:
    """An animation as self-contained HTML and JavaScript (frames embedded), for notebooks and the website.

    ``alt`` is the one-sentence description a screen reader announces for the animation's image.
    Matplotlib's player links a Font Awesome stylesheet from a CDN for its button icons; the link is
    removed so the page needs no network (the book's theme already ships Font Awesome).
    """
    if not alt.strip():
        raise ValueError("animation_html needs an alt text: one sentence saying what the animation shows.")
    html = anim.to_jshtml(default_mode=default_mode)
    html = re.sub(r'<link rel="stylesheet"[^>]*font-awesome[^>]*>', "", html)
    return html.replace("<img id=", f'<img alt="{escape(alt, quote=True)}" id=', 1)


def plot_probabilities(probabilities: torch.Tensor, images: torch.Tensor, labels: torch.Tensor,
                       title: str = "What the network believes") -> plt.Figure:
    """For each digit, the image and a bar chart of its ten class probabilities. The true class
    is blue and the prediction, when it differs, vermillion; both are also written above their
    bars, so colour is not the only cue."""
    probabilities = probabilities.detach().cpu()
    pixels = _as_pixels(images)
    n = len(probabilities)
    fig, axes = plt.subplots(n, 2, figsize=(6.4, 1.55 * n + 0.4), gridspec_kw={"width_ratios": [1, 4]},
                             squeeze=False)
    for row in range(n):
        ax_img, ax_bar = axes[row]
        ax_img.imshow(pixels[row], cmap=DIGIT_CMAP)
        ax_img.axis("off")
        predicted = int(probabilities[row].argmax())
        true = int(labels[row])
        colours = [RIGHT if d == true else (WRONG if d == predicted else NEUTRAL) for d in range(10)]
        values = probabilities[row].numpy()
        ax_bar.bar(range(10), values, color=colours)
        tags = {true: "true = predicted"} if predicted == true else {true: "true", predicted: "predicted"}
        for d, tag in tags.items():
            ax_bar.text(d, min(values[d], 1.0) + 0.04, tag, ha="center", va="bottom", fontsize=MIN_FONT_PT,
                        color=colours[d])
        ax_bar.set(ylim=(0, 1.3), xticks=range(10), yticks=[0, 0.5, 1], ylabel="probability")
        ax_bar.spines[["top", "right"]].set_visible(False)
        ax_bar.set_title(f"true {true}, predicted {predicted} ({float(probabilities[row, predicted]):.1%})",
                         fontsize=10)
    axes[-1, 1].set_xlabel("digit class")
    fig.suptitle(title)
    return fig


def plot_confusion(matrices: dict[str, torch.Tensor], title: str = "Confusion matrices (test set)") -> plt.Figure:
    """One heat map per named confusion matrix, side by side, on one shared colour scale (so the
    same colour is the same count in every panel) with whole-number ticks. The diagonal (correct)
    is left blank so that the mistakes are visible; each off-diagonal count is written in its
    cell, white on dark cells."""
    n = len(matrices)
    fig, axes = plt.subplots(1, n, figsize=(min(FIGURE_WIDTH, 3.3 * n + 0.9), 3.6), squeeze=False)
    errors = {}
    for name, matrix in matrices.items():
        errors[name] = matrix.clone().float()
        errors[name].fill_diagonal_(float("nan"))
    vmax = max(float(np.nanmax(e.numpy())) for e in errors.values()) or 1.0
    for ax, (name, matrix) in zip(axes[0], matrices.items()):
        im = ax.imshow(errors[name].numpy(), cmap="Reds", vmin=0, vmax=vmax)
        for i in range(matrix.shape[0]):
            for j in range(matrix.shape[1]):
                if i != j and matrix[i, j] > 0:
                    dark = float(matrix[i, j]) > 0.55 * vmax
                    ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=MIN_FONT_PT,
                            color="white" if dark else "black")
        wrong = int(matrix.sum() - matrix.trace())
        ax.set(xlabel="predicted digit", ylabel="true digit", xticks=range(10), yticks=range(10),
               title=f"{name}: {wrong} errors")
    bar = fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="digits (off the diagonal)")
    bar.locator = MaxNLocator(integer=True)
    bar.update_ticks()
    fig.suptitle(title)
    return fig


def show_bitmaps(centres: torch.Tensor, shape: tuple[int, int] = (12, 7), title: str = "RBF centres") -> plt.Figure:
    """The output RBF centres of the 1998 network (10, 84) drawn as 7x12 bitmaps (+1 black, -1 white)."""
    fig, axes = plt.subplots(1, len(centres), figsize=(0.7 * len(centres), 1.7))
    for digit, (ax, centre) in enumerate(zip(axes, centres)):
        ax.imshow(centre.view(*shape).cpu().numpy(), cmap="gray_r", vmin=-1, vmax=1)
        ax.set_title(str(digit))
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    return fig


def _number_grid(ax: plt.Axes, values: torch.Tensor, cmap: str, vmin: float, vmax: float, fmt: str,
                 title: str) -> None:
    """Draw ``values`` (H, W) as coloured cells with each number written in its cell."""
    ax.imshow(values.numpy(), cmap=cmap, vmin=vmin, vmax=vmax)
    for (i, j), value in np.ndenumerate(values.numpy()):
        shade = (value - vmin) / ((vmax - vmin) or 1.0)
        dark = {DIGIT_CMAP: shade > 0.6, MAGNITUDE_CMAP: shade < 0.5}.get(cmap, shade < 0.15 or shade > 0.85)
        text = format(value, fmt)
        text = text[1:] if text.startswith("-") and text.strip("-0.") == "" else text  # no "-0.00"
        ax.text(j, i, text, ha="center", va="center", fontsize=MIN_FONT_PT,
                color="white" if dark else "black")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)


def draw_unit_path(path: UnitPath) -> plt.Figure:
    """The arithmetic of one unit per layer, from a 5x5 patch of the digit to the class
    probability, with the real numbers of :func:`unit_path` (the figure the block diagrams
    leave out). Introduced in the data-flow chapter."""
    fig = plt.figure(figsize=(FIGURE_WIDTH, 6.6), layout="constrained")
    grid = fig.add_gridspec(3, 4, height_ratios=[2.0, 1.5, 1.5], width_ratios=[1.35, 2.0, 2.0, 1.9])
    r1, q1 = path.c1_at
    k = path.kernel.shape[-1]
    ax = fig.add_subplot(grid[0, 0])
    ax.imshow(to_pixels(path.image).numpy(), cmap=DIGIT_CMAP, vmin=0, vmax=1)
    ax.add_patch(Rectangle((q1 - 0.5, r1 - 0.5), k, k, fill=False, edgecolor=HIGHLIGHT, lw=2.5))
    ax.set(xticks=[], yticks=[], title="input 32x32")
    ax.set_xlabel(f"patch: rows {r1}-{r1 + k - 1},\ncols {q1}-{q1 + k - 1}", fontsize=MIN_FONT_PT)
    _number_grid(fig.add_subplot(grid[0, 1]), path.patch, DIGIT_CMAP, float(path.image.min()),
                 float(path.image.max()), ".1f", "the 5x5 patch (normalised)")
    limit = symmetric_limit(path.kernel)
    _number_grid(fig.add_subplot(grid[0, 2]), path.kernel, SIGNED_CMAP, -limit, limit, ".2f",
                 f"C1 kernel {path.c1_map}")
    ax = fig.add_subplot(grid[0, 3])
    ax.axis("off")
    products = float((path.patch * path.kernel).sum())
    ax.text(0.0, 0.5, f"C1 map {path.c1_map}\nat row {r1}, col {q1}:\n\n"
            f"sum of the 25\npatch x kernel\nproducts = {products:.3f}\n+ bias {path.c1_bias:+.3f}\n"
            f"= {path.c1_pre:.3f}\nReLU: {path.c1:.3f}", va="center", fontsize=10, family="monospace")
    r2, q2 = path.s2_at
    ax = fig.add_subplot(grid[1, 0])
    ax.imshow(path.c1_maps.numpy(), cmap=MAGNITUDE_CMAP, vmin=0)
    ax.add_patch(Rectangle((2 * q2 - 0.5, 2 * r2 - 0.5), 2, 2, fill=False, edgecolor=HIGHLIGHT, lw=2.5))
    ax.set(xticks=[], yticks=[], title=f"C1 map {path.c1_map}")
    ax.set_xlabel("28x28, after ReLU", fontsize=MIN_FONT_PT)
    top = float(path.c1_maps.max()) or 1.0
    _number_grid(fig.add_subplot(grid[1, 1]), path.s2_window, MAGNITUDE_CMAP, 0.0, top, ".3f",
                 "its 2x2 window")
    ax = fig.add_subplot(grid[1, 2:])
    ax.axis("off")
    ax.text(0.0, 0.5, f"S2 map {path.c1_map} at row {r2}, col {q2}:\nthe largest of the four\n"
            f"= {path.s2:.3f}", va="center", fontsize=10, family="monospace")
    r3, q3 = path.c3_at
    r4, q4 = path.s4_at
    parts = ", ".join(f"{v:+.2f}" for v in path.c3_per_input.tolist())

    def largest(top: tuple[float, float], source: str) -> str:
        value, weight = top
        return f"largest: {source} {value:.3f} x weight {weight:+.3f} = {value * weight:+.3f}"

    lines = [
        f"C3 map {path.c3_map} at row {r3}, col {q3}: 150 products (6 S2 maps x 25 weights), of which",
        f"  S2 map {path.c1_map} at row {r2}, col {q2} (above) gives the largest; summed per S2 map:",
        f"  {parts}; + bias {path.c3_bias:+.3f} = {path.c3_pre:.3f}; ReLU: {path.c3:.3f}",
        f"S4 map {path.c3_map} at row {r4}, col {q4}: the largest of "
        + ", ".join(f"{v:.3f}" for v in path.s4_window.flatten().tolist()) + f" = {path.s4:.3f}",
        f"F5 unit {path.f5_unit}: 400 products, {largest(path.f5_top, 'S4')};",
        f"  all + bias {path.f5_bias:+.3f} = {path.f5_pre:.3f}; ReLU: {path.f5:.3f}",
        f"F6 unit {path.f6_unit}: 120 products, {largest(path.f6_top, 'F5')};",
        f"  all + bias {path.f6_bias:+.3f} = {path.f6_pre:.3f}; ReLU: {path.f6:.3f}",
        f"output {path.output_class}: 84 products, {largest(path.output_top, 'F6')};",
        f"  all + bias {path.output_bias:+.3f} = logit {path.logit:.3f} (no ReLU on the logits)",
        f"softmax of the 10 logits (next best: digit {path.runner_up[0]}, logit {path.runner_up[1]:.2f}):"
        f" P(digit {path.output_class}) = {path.probability:.3%}",
    ]
    ax = fig.add_subplot(grid[2, :])
    ax.axis("off")
    ax.text(0.0, 1.0, "\n".join(lines), va="top", fontsize=MIN_FONT_PT, family="monospace", linespacing=1.4)
    fig.suptitle("One unit per layer, from a 5x5 patch of the digit to the class probability")
    return fig
