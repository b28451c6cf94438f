"""The paper's distortions: random planar affine transformations of whole batches.

LeCun et al. (1998) trained on distorted copies of the training digits (horizontal and
vertical translation, scaling, squeezing and horizontal shearing) and cut the test error from
0.95% to 0.8%; a small rotation is today's usual addition. Each image of a batch gets its own
random transformation, applied to the whole (N, C, H, W) tensor at once with one
``affine_grid`` and one ``grid_sample`` (no per-image Python loop), so training stays fast.
Uncovered pixels are filled with the background. Introduced in the distortions chapter.
Also here, the simplest distortion: whole-pixel shifts, one for a batch (:func:`translate`, the
S2 chapter) or one per image (:func:`random_shift`, a training option of ``fit``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F

from .inputs import BACKGROUND


@dataclass(frozen=True)
class Distortion:
    """The ranges of the random distortions; each is drawn uniformly per image.

    A zero turns that distortion off. ``Distortion()`` holds the reference ranges; the shipped
    network trained at 0.75 of each (``train.distorted_config``), chosen on the validation split.
    """

    shift: float = 3.0  # translation: up to this many pixels in each direction
    scale: float = 0.15  # size: factor in [1 - scale, 1 + scale]
    squeeze: float = 0.15  # aspect: width x (1 + s), height / (1 + s), s in [-squeeze, squeeze]
    shear: float = 0.3  # horizontal shear: x += shear * y, factor in [-shear, shear]
    rotation: float = 10.0  # degrees, in [-rotation, rotation]

    def __post_init__(self) -> None:
        for name in ("shift", "scale", "squeeze", "shear", "rotation"):
            if getattr(self, name) < 0:
                raise ValueError(f"Distortion.{name} is a range and must be 0 or more, "
                                 f"got {getattr(self, name)}.")
        if self.scale >= 1 or self.squeeze >= 1:
            raise ValueError("Distortion.scale and .squeeze must be below 1 (a factor of 0 "
                             "would shrink the digit to nothing).")

    def scaled(self, factor: float) -> "Distortion":
        """Every range times ``factor``: 0 is no distortion, 2 twice as strong."""
        return Distortion(*(factor * getattr(self, f.name) for f in fields(self)))


def affine_matrices(dx: torch.Tensor, dy: torch.Tensor, scale: torch.Tensor,
                    squeeze: torch.Tensor, shear: torch.Tensor, rotation: torch.Tensor,
                    size: int) -> torch.Tensor:
    """The (N, 2, 3) matrices that move each image by ``dx``, ``dy`` pixels (right, down),
    scale it by ``scale``, squeeze it by ``squeeze``, shear it by ``shear`` and rotate it by
    ``rotation`` degrees (clockwise on screen), about the image centre.

    Each argument is a tensor of N values. The matrices map output coordinates to input
    coordinates in ``affine_grid``'s normalised units (-1 .. 1 across ``size`` pixels),
    which is why the forward transformation is inverted.
    """
    angle = torch.deg2rad(rotation)
    cos, sin = torch.cos(angle), torch.sin(angle)
    sx, sy = scale * (1 + squeeze), scale / (1 + squeeze)
    # forward map A = R @ Shear @ diag(sx, sy), applied to (x, y) with y pointing down
    a11, a12 = cos * sx, (cos * shear - sin) * sy
    a21, a22 = sin * sx, (sin * shear + cos) * sy
    det = a11 * a22 - a12 * a21
    inv = torch.stack([torch.stack([a22, -a12], -1), torch.stack([-a21, a11], -1)], -2)
    inv = inv / det[:, None, None]  # (N, 2, 2)
    shift = torch.stack([dx, dy], -1) * (2.0 / size)  # pixels -> normalised units, (N, 2)
    offset = -(inv @ shift[:, :, None])  # input = inv @ (output - shift)
    return torch.cat([inv, offset], dim=2)  # (N, 2, 3)


def apply_affine(X: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Resample every image of X (N, C, H, W) through its matrix in ``theta`` (N, 2, 3).

    Bilinear interpolation; pixels that come from outside the frame are background.
    """
    grid = F.affine_grid(theta.to(X.dtype), list(X.shape), align_corners=False)
    moved = F.grid_sample(X - BACKGROUND, grid, mode="bilinear", padding_mode="zeros",
                          align_corners=False)
    return moved + BACKGROUND


def distort(X: torch.Tensor, dx: float = 0.0, dy: float = 0.0, scale: float = 1.0,
            squeeze: float = 0.0, shear: float = 0.0, rotation: float = 0.0) -> torch.Tensor:
    """Apply one and the same distortion to every image of X (N, C, H, W).

    ``distort(X, dx=3, dy=3)`` moves every digit 3 pixels right and 3 down;
    ``distort(X, rotation=20)`` turns every digit 20 degrees. Used for robustness curves.
    """
    n, size = len(X), X.shape[-1]

    def full(value: float) -> torch.Tensor:
        return torch.full((n,), float(value), device=X.device)

    theta = affine_matrices(full(dx), full(dy), full(scale), full(squeeze), full(shear),
                            full(rotation), size)
    return apply_affine(X, theta)


def random_affine(X: torch.Tensor, distortion: Distortion = Distortion(),
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Distort each image of X (N, C, H, W) by its own random draw from ``distortion``."""
    n, size = len(X), X.shape[-1]

    def uniform(limit: float) -> torch.Tensor:  # n values in [-limit, limit]
        u = torch.rand(n, device=X.device, generator=generator)
        return (2 * u - 1) * limit

    theta = affine_matrices(uniform(distortion.shift), uniform(distortion.shift),
                            1 + uniform(distortion.scale), uniform(distortion.squeeze),
                            uniform(distortion.shear), uniform(distortion.rotation), size)
    return apply_affine(X, theta)


# --- whole-pixel shifts -------------------------------------------------------------------------

def translate(X: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Move every image of X (N, C, H, W) down by ``dy`` and right by ``dx`` whole pixels.

    Pixels moved out of the frame are lost; the uncovered border is filled with the background
    (normalised black). Negative values move up or left. Introduced in the S2 chapter.
    """
    h, w = X.shape[-2:]
    if abs(dy) >= h or abs(dx) >= w:
        raise ValueError(f"A shift of ({dy}, {dx}) moves a {h}x{w} image entirely out of its frame.")
    padded = F.pad(X, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)), value=BACKGROUND)
    top, left = max(-dy, 0), max(-dx, 0)
    return padded[..., top:top + h, left:left + w]


def random_shift(X: torch.Tensor, max_shift: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each image of X (N, C, H, W) by its own random whole-pixel offset in [-max_shift, max_shift].

    The uncovered border is filled with the background value (normalised black).
    """
    if max_shift == 0:
        return X
    n, c, h, w = X.shape
    padded = F.pad(X, (max_shift,) * 4, value=BACKGROUND)  # (N, C, H+2s, W+2s)
    offsets = torch.randint(0, 2 * max_shift + 1, (2, n), device=X.device, generator=generator)
    rows = (torch.arange(h, device=X.device)[None, :] + offsets[0][:, None])  # (N, H)
    cols = (torch.arange(w, device=X.device)[None, :] + offsets[1][:, None])  # (N, W)
    batch = torch.arange(n, device=X.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    return out.permute(0, 3, 1, 2)
