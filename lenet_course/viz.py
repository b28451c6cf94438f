"""Every figure of the course: digits, kernels, feature maps, curves, misclassified examples.

Each function returns its matplotlib Figure. Call :func:`use_book_style` once at the top of a
chapter for the book's look; importing this module changes nothing.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from .data import to_pixels
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
    """Loss (left) and accuracy (right) per epoch from :func:`lenet_course.train.fit`."""
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.6))
    ax_loss.plot(history.epochs, history.train_loss, "o-", label="training")
    ax_loss.plot(history.epochs, history.test_loss, "s-", label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss", yscale="log")
    ax_loss.legend()
    ax_acc.plot(history.epochs, [100 * a for a in history.train_acc], "o-", label="training")
    ax_acc.plot(history.epochs, [100 * a for a in history.test_acc], "s-", label="test")
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
