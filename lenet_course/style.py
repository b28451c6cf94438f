"""The book's figure style, and the check that every figure meets it.

:func:`use_book_style` (called at the top of each chapter) sets matplotlib's sizes, fonts and
palette and shows each figure as a sharp PNG at the size it is drawn. Every figure shown is
drawn once more on a recording renderer, and one wider than the page or with text under 9 pt
warns (an error with LENET_COURSE_STRICT_FIGURES=1, as in the tests and the build). Importing
this module changes nothing.
"""

from __future__ import annotations

import io
import os
import warnings

import matplotlib.pyplot as plt
from cycler import cycler
from matplotlib.backends.backend_agg import RendererAgg

# The website's main column is about 757 CSS pixels wide on a 1,366-px screen. A figure is
# drawn at 96 dots per inch (one CSS pixel per dot), so its inches times 96 are the pixels it
# takes on the page: at most MAX_WIDTH inches and it is never shrunk, and a 9-point label is
# 12 px tall as displayed. The PNG carries PNG_SCALE times as many pixels (192 dpi), so it
# stays sharp on high-density screens and when zoomed.
CONTENT_WIDTH_PX = 757
SCREEN_DPI = 96
MAX_WIDTH = CONTENT_WIDTH_PX / SCREEN_DPI  # 7.89 inches
FIGURE_WIDTH = 7.6  # the default width, in inches
PNG_SCALE = 2
MIN_FONT_PT = 9  # no text smaller than this, as displayed

# Okabe and Ito's palette, distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
RIGHT, WRONG, NEUTRAL = "#0072B2", "#D55E00", "0.65"  # blue / vermillion, never red vs green
HIGHLIGHT = "#E69F00"  # orange: frames and marks that say "look here" (a window, a patch)
SIGNED_CMAP = "RdBu_r"  # diverging, centred on 0: weights, pre-activations, differences
MAGNITUDE_CMAP = "viridis"  # perceptual, for values from 0 up: activations, counts
DIGIT_CMAP = "gray_r"  # ink dark on white paper, as the digits were written

STRICT_ENV = "LENET_COURSE_STRICT_FIGURES"  # "1": a figure off the style is an error


class FigureStyleWarning(UserWarning):
    """A figure breaks the book's style: too wide for the page, or text too small to read."""


class FigureStyleError(ValueError):
    """A figure breaks the book's style while LENET_COURSE_STRICT_FIGURES=1 (tests and build)."""


def use_book_style() -> None:
    """Apply the book's figure style; called explicitly at the top of each chapter.

    Sets matplotlib's sizes, fonts and palette, and (inside Jupyter) shows every figure as a
    sharp PNG at the size it is drawn, after checking it with :func:`style_problems`.
    """
    # Load matplotlib's backend first (creating a figure does): Jupyter's inline backend sets
    # its own rcParams and PNG formatter when it loads, which would undo ours.
    plt.close(plt.figure())
    plt.rcParams.update({
        "figure.dpi": SCREEN_DPI,
        "savefig.dpi": SCREEN_DPI * PNG_SCALE,
        "figure.figsize": (FIGURE_WIDTH, 3.4),
        "axes.grid": False,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "font.size": 10,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "legend.fontsize": 9,
        "legend.title_fontsize": 9,
        "figure.titlesize": 12,
        "axes.prop_cycle": cycler(color=PALETTE),
        "image.cmap": MAGNITUDE_CMAP,
        "figure.constrained_layout.use": True,
    })
    _install_png_formatter()


class _TextRecorder(RendererAgg):
    """An Agg renderer that notes every piece of text it draws, with its size in points."""

    def __init__(self, fig: plt.Figure) -> None:
        width, height = fig.get_size_inches() * fig.dpi
        super().__init__(int(width), int(height), fig.dpi)
        self.texts: list[tuple[str, float]] = []

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if s.strip():
            self.texts.append((s.strip(), prop.get_size_in_points()))
        return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height in pixels, read from a PNG's header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def render_png(fig: plt.Figure) -> tuple[bytes, list[str]]:
    """The figure as the book shows it (a PNG at PNG_SCALE x 96 dpi, cropped to its contents)
    and the list of its departures from the book's style (empty when it meets it)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=SCREEN_DPI * PNG_SCALE, bbox_inches="tight", pad_inches=0.05)
    png = buffer.getvalue()
    recorder = _TextRecorder(fig)  # draw once more, noting each text that is really drawn
    fig.draw(recorder)
    width, _ = _png_size(png)
    problems = []
    shown = width / PNG_SCALE
    if shown > CONTENT_WIDTH_PX + 1:
        problems.append(f"it is {shown:.0f} px wide, more than the page's {CONTENT_WIDTH_PX} px "
                        f"({shown / SCREEN_DPI:.2f} > {MAX_WIDTH:.2f} inches), so it would be shrunk; "
                        f"give it a smaller figsize")
    small = sorted({(round(size, 1), text[:30]) for text, size in recorder.texts if size < MIN_FONT_PT - 1e-6})
    for size, text in small[:5]:
        problems.append(f"the text {text!r} is {size:g} pt, under the {MIN_FONT_PT} pt minimum")
    if len(small) > 5:
        problems.append(f"... and {len(small) - 5} more texts under {MIN_FONT_PT} pt")
    return png, problems


def style_problems(fig: plt.Figure) -> list[str]:
    """What keeps ``fig`` from the book's style: wider than the page (it would be shrunk) or
    text under MIN_FONT_PT points. An empty list means the figure is fine."""
    return render_png(fig)[1]


def figure_png(fig: plt.Figure) -> tuple[bytes, dict]:
    """IPython's PNG formatter for figures: the PNG and its displayed size (half its pixels).

    A figure off the style warns (:class:`FigureStyleWarning`); with LENET_COURSE_STRICT_FIGURES=1,
    as in the tests and the website build, it is an error.
    """
    png, problems = render_png(fig)
    if problems:
        title = fig.get_suptitle() or next((ax.get_title() for ax in fig.axes if ax.get_title()), "")
        message = (f"The figure {title!r} does not meet the book's figure style: "
                   + "; ".join(problems) + ".")
        if os.environ.get(STRICT_ENV) == "1":
            raise FigureStyleError(message)
        warnings.warn(message, FigureStyleWarning, stacklevel=2)
    width, height = _png_size(png)
    return png, {"width": width // PNG_SCALE, "height": height // PNG_SCALE}


def _install_png_formatter() -> None:
    """Show figures through :func:`figure_png` when running inside IPython; else do nothing."""
    try:  # deferred: IPython is there in Jupyter, and only needed there
        from IPython import get_ipython
    except ImportError:  # plain Python: figures are saved or shown by the caller
        return
    shell = get_ipython()
    if shell is None:
        return
    formatters = shell.display_formatter.formatters
    formatters["image/png"].for_type(plt.Figure, figure_png)
    for mime in ("image/svg+xml", "image/jpeg", "application/pdf"):  # one image per figure
        formatters[mime].pop(plt.Figure, None)
