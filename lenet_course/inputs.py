"""What the networks take as input, and the checks that say so.

LeNet-5 reads a 32x32 field of normalised pixels; MNIST digits are 28x28. This module holds
the numbers that connect the two (the field size, the 2-pixel padding, the normalisation
constants and the background value they give) and :func:`check_input`, which turns a wrong
input into an error that says what was expected and how to fix it. It sits at the bottom of
the package beside :mod:`lenet_course.shapes`: both models and the data module use it.
Introduced in the input chapter.
"""

from __future__ import annotations

import torch

INPUT_SIZE = 32  # the paper's 32x32 input field
MNIST_SIZE = 28  # MNIST digits are 28x28
PAD = (INPUT_SIZE - MNIST_SIZE) // 2  # 2 pixels of background on every side

# Mean and standard deviation of the 60,000 training images' pixels scaled to [0, 1]
# (28x28, before padding); the tests recompute both from the data.
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081
BACKGROUND = (0.0 - MNIST_MEAN) / MNIST_STD  # a blank (0) pixel after normalisation, about -0.42


def check_input(x: object, size: int = INPUT_SIZE, model_name: str = "LeNet5") -> None:
    """Raise a learner-friendly error unless ``x`` is a float tensor (N, 1, size, size)."""
    expected = f"(N, 1, {size}, {size})"
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{model_name} expects a torch.Tensor of shape {expected}, got "
            f"{type(x).__name__}. Convert with torch.as_tensor(...) and see "
            "lenet_course.data.prepare_images."
        )
    if not torch.is_floating_point(x):
        raise TypeError(
            f"{model_name} expects floating-point pixels (torch.float32), got {x.dtype}. "
            "Raw MNIST bytes are 0..255 integers: convert and normalise them with "
            "lenet_course.data.prepare_images(images), or at least x.float() / 255."
        )
    shape = tuple(x.shape)
    if x.dim() != 4:
        if x.dim() == 3 and shape[0] == 1 and shape[1:] == (size, size):
            fix = "It looks like one image without the batch dimension: use x.unsqueeze(0)."
        elif x.dim() == 2 and shape == (size, size):
            fix = ("It looks like one bare image: use x[None, None] to add batch and "
                   "channel dimensions.")
        elif x.dim() == 3 and shape[1:] == (size, size):
            fix = "It looks like a batch without the channel dimension: use x.unsqueeze(1)."
        else:
            fix = "Reshape it to a batch of single-channel images."
        raise ValueError(f"{model_name} expects a 4-D batch {expected}, got shape {shape}. {fix}")
    if shape[1] != 1:
        raise ValueError(
            f"{model_name} expects 1 channel (grayscale digits) in {expected}, got {shape[1]} "
            f"channels (shape {shape}). For RGB images, convert to grayscale first, e.g. "
            "x.mean(dim=1, keepdim=True)."
        )
    if shape[2:] != (size, size):
        hint = ""
        if shape[2:] == (MNIST_SIZE, MNIST_SIZE):
            hint = (
                f" MNIST digits are {MNIST_SIZE}x{MNIST_SIZE}: pad 28x28 MNIST digits to "
                f"{size}x{size} with lenet_course.data.pad_to_32(x) ({PAD} pixels of "
                "background on each side), as the paper does."
            )
        raise ValueError(
            f"{model_name} expects {size}x{size} images {expected}, got shape {shape}.{hint}"
        )
