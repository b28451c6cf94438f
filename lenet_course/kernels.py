"""A faster way to compute the same 2x2 max pooling on the CPU, for training.

In the channels-last layout (the fast-training chapter's), PyTorch's max pooling steps along
the channels of each pixel. S2 has six, too few to fill the CPU's vector registers, and its
forward pass took about a fifth of the fast recipe's epoch on a 2-core CPU (``python -m
lenet_course.bench --profile``). :func:`max_pool_2x2` gets the same numbers from elementwise
maxima over long runs of memory instead: first of each pair of
neighbouring columns, then of each pair of rows. While it compares, it notes which of the
four won, in PyTorch's order (the first maximum in reading order), and its backward pass is
PyTorch's own max-pooling backward given those positions. Outputs and gradients are equal to
``F.max_pool2d(x, 2)``'s bit for bit, ties included.

:func:`faster_pooling` puts it in a network's 2x2 max-pooling layers for the length of a
``with`` block; ``fit`` uses it when ``TrainConfig.fast_pooling`` is on. The network is the
same: the same layers, weights and results, computed differently. Introduced in the "Training
LeNet-5 fast" chapter.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

# PyTorch's own kernel works along the channels; from this many channels on it is the faster
# (measured on a 2-core CPU: S4's 16 channels pool faster natively, S2's 6 faster by rows).
NATIVE_FROM_CHANNELS = 16


def _row_pooling_applies(x: torch.Tensor) -> bool:
    """True when :func:`max_pool_2x2` computes ``x`` by rows: a CPU tensor (N, C, H, W) with
    fewer than NATIVE_FROM_CHANNELS channels, even H and W, and channels-last memory."""
    return (x.device.type == "cpu" and x.dim() == 4 and x.shape[1] < NATIVE_FROM_CHANNELS
            and x.shape[2] % 2 == 0 and x.shape[3] % 2 == 0 and x.permute(0, 2, 3, 1).is_contiguous())


class MaxPoolByRows(torch.autograd.Function):
    """2x2 max pooling, stride 2, of a channels-last (N, C, H, W) tensor, by rows of memory."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        # memory order is (N, H, W, C): view it as pairs of rows, each a run of pairs of columns
        pixels = x.permute(0, 2, 3, 1).view(n, h // 2, 2, w // 2, 2, c)
        left, right = pixels[..., 0, :], pixels[..., 1, :]  # (N, H/2, 2, W/2, C) each
        right_won = (right > left).view(torch.uint8)  # a tie goes to the first, as in PyTorch
        columns = torch.maximum(left, right)
        top, bottom = columns[:, :, 0], columns[:, :, 1]  # (N, H/2, W/2, C) each
        bottom_won = (bottom > top).view(torch.uint8)
        pooled = torch.maximum(top, bottom)
        if ctx.needs_input_grad[0]:
            # the winner's position in its map, h * W + w, as PyTorch's backward reads it
            column = right_won[:, :, 0] + bottom_won * (right_won[:, :, 1] - right_won[:, :, 0])
            index = (bottom_won * w + column).long().add_(_corners(h, w, x.device))
            ctx.save_for_backward(x, index.permute(0, 3, 1, 2))
        return pooled.permute(0, 3, 1, 2)  # (N, C, H/2, W/2), channels-last

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        x, index = ctx.saved_tensors
        return torch.ops.aten.max_pool2d_with_indices_backward(grad, x, [2, 2], [2, 2], [0, 0], [1, 1], False, index)


_CORNERS: dict[tuple[int, int, torch.device], torch.Tensor] = {}


def _corners(h: int, w: int, device: torch.device) -> torch.Tensor:
    """(H/2, W/2, 1): the position h * W + w of each 2x2 block's top-left pixel in its map."""
    key = (h, w, device)
    if key not in _CORNERS:
        rows = torch.arange(0, h, 2, device=device).view(-1, 1, 1) * w
        _CORNERS[key] = rows + torch.arange(0, w, 2, device=device).view(1, -1, 1)
    return _CORNERS[key]


def max_pool_2x2(x: torch.Tensor) -> torch.Tensor:
    """``F.max_pool2d(x, 2)``, the same numbers and gradients, computed by rows where that is
    faster (a channels-last CPU tensor with few channels); anything else goes to PyTorch's own."""
    if _row_pooling_applies(x):
        return MaxPoolByRows.apply(x)
    return F.max_pool2d(x, 2)


class MaxPool2x2(nn.MaxPool2d):
    """``nn.MaxPool2d(2)`` computed by :func:`max_pool_2x2`: a drop-in replacement."""

    def __init__(self) -> None:
        super().__init__(kernel_size=2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return max_pool_2x2(x)


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return value if isinstance(value, tuple) else (value, value)


def _is_plain_2x2(module: nn.Module) -> bool:
    return (type(module) is nn.MaxPool2d and _pair(module.kernel_size) == (2, 2) and _pair(module.stride) == (2, 2)
            and _pair(module.padding) == (0, 0) and _pair(module.dilation) == (1, 1)
            and not module.ceil_mode and not module.return_indices)


@contextlib.contextmanager
def faster_pooling(model: nn.Module) -> Iterator[nn.Module]:
    """Inside the block, every plain ``nn.MaxPool2d(2)`` of ``model`` (kernel 2, stride 2, no
    padding) is a :class:`MaxPool2x2`; after it, the original layers are back."""
    swapped = []
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if _is_plain_2x2(child):
                setattr(parent, name, MaxPool2x2())
                swapped.append((parent, name, child))
    try:
        yield model
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)
