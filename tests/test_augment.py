import pytest
import torch

from lenet_course.augment import Distortion, distort, random_affine, translate
from lenet_course.inputs import BACKGROUND


def blob_images(n: int = 4) -> torch.Tensor:
    X = torch.full((n, 1, 32, 32), BACKGROUND)
    X[:, 0, 10:22, 13:18] = 2.0  # an upright bar, like a "1"
    return X


def centre_of_ink(X: torch.Tensor) -> torch.Tensor:
    """(N, 2) row, column of the ink's centre of mass."""
    ink = (X[:, 0] - BACKGROUND).clamp(min=0)
    rows = torch.arange(32.0)[None, :, None]
    cols = torch.arange(32.0)[None, None, :]
    total = ink.sum(dim=(1, 2))
    return torch.stack([(ink * rows).sum(dim=(1, 2)) / total,
                        (ink * cols).sum(dim=(1, 2)) / total], dim=1)


def test_whole_pixel_shifts_equal_translate():
    X = blob_images()
    for dx, dy in [(3, 3), (-2, 1), (0, -4)]:
        assert torch.allclose(distort(X, dx=dx, dy=dy), translate(X, dy, dx), atol=1e-5)


def test_the_identity_changes_nothing():
    X = torch.randn(3, 1, 32, 32)
    assert torch.allclose(distort(X), X, atol=1e-5)


def test_rotation_turns_the_bar_and_keeps_its_centre():
    X = blob_images(1)
    turned = distort(X, rotation=90)
    ink = turned[0, 0] > 0.5
    rows, cols = ink.nonzero(as_tuple=True)
    assert (cols.max() - cols.min()) > (rows.max() - rows.min())  # now lying down
    assert torch.allclose(centre_of_ink(turned), centre_of_ink(X), atol=0.6)


def test_scale_and_squeeze_change_the_size_and_aspect():
    X = blob_images(1)
    bigger = (distort(X, scale=1.3)[0, 0] > 0.5).sum()
    assert bigger > (X[0, 0] > 0.5).sum()
    wide = distort(X, squeeze=0.4)[0, 0] > 0.5
    _, cols = wide.nonzero(as_tuple=True)
    assert cols.max() - cols.min() + 1 > 5  # the 5-px-wide bar got wider


def test_random_affine_gives_each_image_its_own_draw_within_range():
    X = blob_images(64)
    moved = random_affine(X, Distortion(shift=3, scale=0, squeeze=0, shear=0, rotation=0),
                          generator=torch.Generator().manual_seed(0))
    offsets = centre_of_ink(moved) - centre_of_ink(X)
    assert offsets.abs().max() <= 3.05
    assert offsets.std(dim=0).min() > 0.5  # not the same offset for all
    assert moved.min() >= BACKGROUND - 1e-5  # the border is filled with background


def test_distortion_rejects_nonsense():
    with pytest.raises(ValueError, match="shift"):
        Distortion(shift=-1)
    with pytest.raises(ValueError, match="below 1"):
        Distortion(scale=1.0)
