"""A digit drawn by hand, made to look like MNIST before the network sees it.

Used by the drawing page, which does the same steps in JavaScript (book/_static/lenet5.js,
function ``preprocess``); a browser test holds the two equal, and the page reads
:data:`DIGIT_BOX` and :data:`INK_THRESHOLD` from the data the build exports.
"""

from __future__ import annotations

import math

import torch

from .inputs import MNIST_SIZE

# The same steps are written in JavaScript for the website's drawing page (book/_static/lenet5.js,
# function preprocess); a browser test holds the two equal. Plain loops in float64 and one
# rounding rule (floor(v + 0.5)) keep both languages to the same numbers.

DIGIT_BOX = 20  # MNIST digits were scaled to fit a 20x20 box...
INK_THRESHOLD = 0.5  # grey levels above this (of 255) count as ink for the bounding box


def _round(v: float) -> int:
    """Round half up, as JavaScript's Math.round does for positive numbers."""
    return math.floor(v + 0.5)


def _resample(image: list[list[float]], top: int, left: int, height: int, width: int,
              out_h: int, out_w: int) -> list[list[float]]:
    """Area-average the box (top, left, height, width) of ``image`` into out_h x out_w pixels.

    Each output pixel is the mean of the input over the rectangle it covers, counting
    input pixels that are only partly covered by the covered fraction (a box filter).
    """
    sy, sx = height / out_h, width / out_w
    out = [[0.0] * out_w for _ in range(out_h)]
    for i in range(out_h):
        y0, y1 = i * sy, (i + 1) * sy
        for j in range(out_w):
            x0, x1 = j * sx, (j + 1) * sx
            total = 0.0
            for y in range(math.floor(y0), min(math.ceil(y1), height)):
                wy = min(y1, y + 1) - max(y0, y)
                row = image[top + y]
                for x in range(math.floor(x0), min(math.ceil(x1), width)):
                    wx = min(x1, x + 1) - max(x0, x)
                    total += wy * wx * row[left + x]
            out[i][j] = total / (sy * sx)
    return out


def preprocess_drawing(bitmap) -> torch.Tensor:
    """A hand-drawn digit (H, W) of ink levels 0..255 -> an MNIST-style (28, 28) uint8 image.

    As MNIST was made: the ink's bounding box is scaled to fit a 20x20 box keeping its
    aspect ratio (area averaging), placed in a 28x28 field, and moved so that its centre of
    mass sits at the centre of the field. Blank input gives a blank image. Feed the result
    to :func:`lenet_course.data.prepare_images` (pad to 32x32 and normalise). Introduced on the drawing page.
    """
    bitmap = torch.as_tensor(bitmap, dtype=torch.float64)
    if bitmap.dim() != 2 or bitmap.numel() == 0:
        raise ValueError("preprocess_drawing expects a 2-D (H, W) grid of ink levels 0..255, "
                         f"got shape {tuple(bitmap.shape)}. For an RGBA canvas, pass its "
                         "alpha channel (or 255 minus its grey level).")
    image = bitmap.tolist()
    height, width = len(image), len(image[0])
    rows = [y for y in range(height) if max(image[y]) > INK_THRESHOLD]
    cols = [x for x in range(width) if any(image[y][x] > INK_THRESHOLD for y in rows)]
    field = [[0.0] * MNIST_SIZE for _ in range(MNIST_SIZE)]
    if rows:
        top, left = rows[0], cols[0]
        box_h, box_w = rows[-1] - top + 1, cols[-1] - left + 1
        scale = DIGIT_BOX / max(box_h, box_w)
        out_h, out_w = max(1, _round(box_h * scale)), max(1, _round(box_w * scale))
        small = _resample(image, top, left, box_h, box_w, out_h, out_w)
        mass = my = mx = 0.0  # plain += in reading order, as in JavaScript (not sum())
        for i, row in enumerate(small):
            for j, v in enumerate(row):
                mass += v
                my += i * v
                mx += j * v
        cy, cx = my / mass, mx / mass
        centre = (MNIST_SIZE - 1) / 2  # 13.5: the middle of the 28x28 field
        oy = min(max(_round(centre - cy), 0), MNIST_SIZE - out_h)  # keep the box inside
        ox = min(max(_round(centre - cx), 0), MNIST_SIZE - out_w)
        for i in range(out_h):
            for j in range(out_w):
                field[oy + i][ox + j] = small[i][j]
    return torch.tensor([[min(255, max(0, _round(v))) for v in row] for row in field],
                        dtype=torch.uint8)
