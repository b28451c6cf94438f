import os

import pytest
import torch

from lenet_course.data import MNISTError, load_mnist
from lenet_course.style import STRICT_ENV

# Every chapter the tests run (nbval starts its kernels from this process) fails on a figure
# that breaks the book's style, as the website build does.
os.environ.setdefault(STRICT_ENV, "1")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def mnist():
    """Full MNIST in its three splits; skipped (with the reason) when the files cannot be had,
    unless LENET_COURSE_REQUIRE_DATA=1 (CI), where that is a failure."""
    try:
        return load_mnist()
    except MNISTError as exc:
        if os.environ.get("LENET_COURSE_REQUIRE_DATA") == "1":
            raise
        pytest.skip(f"MNIST is not available here: {str(exc).splitlines()[0]}")
