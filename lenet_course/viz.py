"""Every figure of the course: digits, kernels, feature maps, curves, misclassified examples.

Each function returns its matplotlib Figure. Call :func:`use_book_style` once at the top of a
chapter for the book's look; importing this module changes nothing.
"""

from __future__ import annotations

import math
import re

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import animation
from matplotlib.patches import FancyArrowPatch, Rectangle

from .data import to_pixels
from .inputs import INPUT_SIZE
from .models import LeNet5
from .shapes import trace_shapes
from .train import History, predict_logits


def use_book_style() -> None:
    """Apply the book's matplotlib settings (sizes, grid, fonts). Called explicitly by each chapter."""
    plt.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "figure.figsize": (8, 4),
        "axes.grid": False,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "font.size": 10,
        "image.cmap": "gray",
        "figure.constrained_layout.use": True,
    })


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
                ncols: int = 10, title: str | None = None, size: float = 0.9) -> plt.Figure:
    """A grid of digits; ``labels`` (and ``predictions``) label each one, wrong ones in red.

    ``images`` is (N, 28, 28) uint8 or (N, 1, 32, 32) normalised floats.
    """
    pixels = _as_pixels(images)
    n = len(pixels)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.25) * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(pixels[i], cmap="gray_r", vmin=0, vmax=1)
        if predictions is not None and labels is not None:
            wrong = int(predictions[i]) != int(labels[i])
            ax.set_title(f"true {int(labels[i])}\npred {int(predictions[i])}", fontsize=8,
                         color="crimson" if wrong else "black")
        elif labels is not None:
            ax.set_title(str(int(labels[i])), fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def plot_history(history: History, title: str = "Training LeNet-5 on MNIST") -> plt.Figure:
    """Loss (left) and accuracy (right) per epoch, on the training and validation splits,
    from :func:`lenet_course.train.fit`."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax_loss.plot(history.epochs, history.train_loss, "o-", label="training")
    ax_loss.plot(history.epochs, history.val_loss, "s-", label="validation")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss", yscale="log")
    ax_loss.legend()
    ax_acc.plot(history.epochs, [100 * a for a in history.train_acc], "o-", label="training")
    ax_acc.plot(history.epochs, [100 * a for a in history.val_acc], "s-", label="validation")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
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


def show_kernels(weight: torch.Tensor, title: str = "Kernels", ncols: int = 8) -> plt.Figure:
    """Convolution kernels (out, in, k, k) as images, one per (out, in) pair; a shared colour scale, 0 = white."""
    w = weight.detach().cpu().float()
    n_out, n_in = w.shape[:2]
    limit = float(w.abs().max())
    ncols = min(ncols, n_out) if n_in == 1 else n_in
    rows = math.ceil(n_out / ncols) if n_in == 1 else n_out
    fig, axes = plt.subplots(rows, ncols, figsize=(1.1 * ncols, 1.1 * rows + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for o in range(n_out):
        for i in range(n_in):
            ax = axes.flat[o] if n_in == 1 else axes[o, i]
            im = ax.imshow(w[o, i].numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(f"map {o}" if n_in == 1 else f"{o}←{i}", fontsize=7)
    fig.colorbar(im, ax=axes, shrink=0.8, label="weight")
    fig.suptitle(title)
    return fig


def show_feature_maps(maps: torch.Tensor, title: str = "Feature maps", ncols: int = 8) -> plt.Figure:
    """Feature maps (C, H, W) of one image, each with its own colour scale, labelled by channel."""
    maps = maps.detach().cpu().float()
    c = maps.shape[0]
    ncols = min(ncols, c)
    nrows = math.ceil(c / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.3 * ncols, 1.4 * nrows + 0.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < c:
            ax.imshow(maps[i].numpy(), cmap="viridis")
            ax.set_title(f"map {i} ({maps.shape[1]}x{maps.shape[2]})", fontsize=7)
    fig.suptitle(title)
    return fig


_OPERATIONS = {"Conv2d": "convolution", "MaxPool2d": "max pooling", "Linear": "full connection",
               "Subsampling": "subsampling", "PartialConv2d": "partial convolution", "RBFOutput": "Gaussian connections"}


def draw_architecture(model: torch.nn.Module | None = None, title: str = "LeNet-5") -> plt.Figure:
    """The architecture diagram (the article's Figure 1), drawn from a live shape trace of ``model``.

    Each stage of maps is a stack of squares sized by its width; each fully connected layer a bar
    sized by its units. Labels come from :func:`lenet_course.shapes.trace_shapes`, not typed in.
    """
    model = LeNet5() if model is None else model
    device = next(model.parameters()).device
    rows = trace_shapes(model, torch.zeros(1, 1, INPUT_SIZE, INPUT_SIZE, device=device))
    stages = [("INPUT", "", (1, 1, INPUT_SIZE, INPUT_SIZE))] + [(r.name.upper(), r.kind, r.output_shape) for r in rows]
    fig, ax = plt.subplots(figsize=(12, 3.6))
    x, scale, previous_right, previous_was_maps = 0.0, 2.6 / INPUT_SIZE, None, False
    for name, kind, shape in stages:
        if len(shape) == 4:  # maps: (1, C, H, W)
            c, h = shape[1], shape[2]
            side = h * scale
            n_drawn = min(c, 6)
            for k in range(n_drawn):
                ax.add_patch(Rectangle((x + 0.09 * k, -side / 2 - 0.09 * k), side, side, facecolor="#cfe2f3",
                                       edgecolor="#1f4e79", lw=0.8, zorder=10 - k))
            width = side + 0.09 * (n_drawn - 1)
            label = f"{c}@{h}x{shape[3]}"
            top = side / 2
        else:  # units: (1, n)
            n = shape[1]
            side = max(0.25, 2.6 * (n / 400) ** 0.5)
            width = 0.22
            ax.add_patch(Rectangle((x, -side / 2), width, side, facecolor="#f4cccc", edgecolor="#990000", lw=0.8))
            label = f"{n}"
            top = side / 2
        ax.text(x + width / 2, top + 0.25, name, ha="center", va="bottom", fontsize=10, weight="bold")
        ax.text(x + width / 2, -1.75, label, ha="center", va="top", fontsize=9)
        if previous_right is not None:
            ax.add_patch(FancyArrowPatch((previous_right + 0.05, 0), (x - 0.05, 0), arrowstyle="-|>",
                                         mutation_scale=10, color="0.35", zorder=20))
            operation = _OPERATIONS.get(kind, kind)
            if len(shape) == 2 and previous_was_maps:
                operation = "flatten + " + operation
            ax.text((previous_right + x) / 2, 0.15, operation, ha="center", va="bottom",
                    fontsize=7, rotation=90, color="0.25", zorder=21)
        previous_right, previous_was_maps = x + width, len(shape) == 4
        x = previous_right + 0.9
    ax.set_xlim(-0.3, x - 0.5)
    ax.set_ylim(-2.2, 2.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{title}: maps as channels@height x width, fully connected layers as units")
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

    fig, (ax_in, ax_k, ax_out) = plt.subplots(1, 3, figsize=(8.4, 3.0), gridspec_kw={"width_ratios": [32, 12, 28]})
    ax_in.imshow(image.numpy(), cmap="gray_r")
    ax_in.set_title(f"input {image.shape[0]}x{image.shape[1]}")
    window = Rectangle((-0.5, -0.5), k, k, fill=False, edgecolor="red", lw=2)
    ax_in.add_patch(window)
    limit = float(kernel.abs().max())
    ax_k.imshow(kernel.numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax_k.set_title(f"kernel {k}x{k}")
    shown = torch.full_like(out, float("nan"))
    lo, hi = float(out.min()), float(out.max())
    canvas = ax_out.imshow(shown.numpy(), cmap="viridis", vmin=lo, vmax=hi)
    ax_out.set_title(f"feature map {oh}x{ow}")
    for ax in (ax_in, ax_k, ax_out):
        ax.set_xticks([])
        ax.set_yticks([])
    marker = Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="red", lw=1.5)
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


def animation_html(anim, default_mode: str = "once") -> str:
    """An animation as self-contained HTML and JavaScript (frames embedded), for notebooks and the website.

    Matplotlib's player links a Font Awesome stylesheet from a CDN for its button icons; the link is
    removed so the page needs no network (the book's theme already ships Font Awesome).
    """

    html = anim.to_jshtml(default_mode=default_mode)
    return re.sub(r'<link rel="stylesheet"[^>]*font-awesome[^>]*>', "", html)


def plot_probabilities(probabilities: torch.Tensor, images: torch.Tensor, labels: torch.Tensor,
                       title: str = "What the network believes") -> plt.Figure:
    """For each digit, the image and a bar chart of its ten class probabilities (true class in green)."""
    probabilities = probabilities.detach().cpu()
    pixels = _as_pixels(images)
    n = len(probabilities)
    fig, axes = plt.subplots(n, 2, figsize=(7, 1.5 * n), gridspec_kw={"width_ratios": [1, 4]}, squeeze=False)
    for row in range(n):
        ax_img, ax_bar = axes[row]
        ax_img.imshow(pixels[row], cmap="gray_r")
        ax_img.axis("off")
        predicted = int(probabilities[row].argmax())
        true = int(labels[row])
        colours = ["seagreen" if d == true else ("crimson" if d == predicted else "0.6") for d in range(10)]
        ax_bar.bar(range(10), probabilities[row].numpy(), color=colours)
        ax_bar.set(ylim=(0, 1.05), xticks=range(10), ylabel="probability")
        ax_bar.set_title(f"true {true}, predicted {predicted} ({float(probabilities[row, predicted]):.1%})", fontsize=9)
    axes[-1, 1].set_xlabel("digit class")
    fig.suptitle(title)
    return fig


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    index = y_true.cpu().long() * num_classes + y_pred.cpu().long()
    return torch.bincount(index, minlength=num_classes * num_classes).view(num_classes, num_classes)


def plot_confusion(matrices: dict[str, torch.Tensor], title: str = "Confusion matrices (test set)") -> plt.Figure:
    """One heat map per named confusion matrix, side by side; the diagonal (correct) is left blank
    so that the mistakes are visible, and each off-diagonal count is written in its cell."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(5.2 * len(matrices), 4.6), squeeze=False)
    for ax, (name, matrix) in zip(axes[0], matrices.items()):
        errors = matrix.clone().float()
        errors.fill_diagonal_(float("nan"))
        im = ax.imshow(errors.numpy(), cmap="Reds")
        for i in range(matrix.shape[0]):
            for j in range(matrix.shape[1]):
                if i != j and matrix[i, j] > 0:
                    ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center", fontsize=7)
        wrong = int(matrix.sum() - matrix.trace())
        ax.set(xlabel="predicted digit", ylabel="true digit", xticks=range(10), yticks=range(10),
               title=f"{name}: {wrong} errors")
        fig.colorbar(im, ax=ax, shrink=0.7, label="test digits")
    fig.suptitle(title)
    return fig


def show_bitmaps(centres: torch.Tensor, shape: tuple[int, int] = (12, 7), title: str = "RBF centres") -> plt.Figure:
    """The output RBF centres of the 1998 network (10, 84) drawn as 7x12 bitmaps (+1 black, -1 white)."""
    fig, axes = plt.subplots(1, len(centres), figsize=(0.8 * len(centres), 1.8))
    for digit, (ax, centre) in enumerate(zip(axes, centres)):
        ax.imshow(centre.view(*shape).cpu().numpy(), cmap="gray_r", vmin=-1, vmax=1)
        ax.set_title(str(digit))
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    return fig
