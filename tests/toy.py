"""A toy data set for the training tests: small, separable, the same on every machine."""

import torch

from lenet_course.data import MNIST


def toy_data(n: int = 512) -> MNIST:
    """Two easy classes, a bright left half (0) or a bright right half (1), split in three."""
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (n,), generator=g)
    X = torch.full((n, 1, 32, 32), -1.0)
    X[y == 0, :, :, :16] = 2.0
    X[y == 1, :, :, 16:] = 2.0
    X += 0.1 * torch.randn(X.shape, generator=g)
    third = n // 3
    return MNIST(X[:third], y[:third], X[third:2 * third], y[third:2 * third], X[2 * third:], y[2 * third:])
