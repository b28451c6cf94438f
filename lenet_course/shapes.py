"""Shape arithmetic, parameter and connection counts, receptive fields and live shape traces.

Every size the course states (the 28 of C1, the 400 of the flatten, the 61,706 parameters,
the 340,908 connections of the 1998 network, the 32x32 field of one F5 unit) is computed here
from the layer definitions, never typed in by hand. The bottom of the package: it uses only
torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


def side_of(size: int | tuple[int, ...]) -> int:
    """The side of a square window given as PyTorch stores it: ``5`` or ``(5, 5)``."""
    if isinstance(size, int):
        return size
    if len(set(size)) != 1:
        raise ValueError(f"expected a square window, got {tuple(size)}")
    return int(size[0])

def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Side length after a convolution: ``(size + 2*padding - kernel_size) // stride + 1``.

    C1 of LeNet-5: ``conv_output_size(32, 5) == 28``. Introduced in the C1 chapter.
    """
    for name, value in {"size": size, "kernel_size": kernel_size, "stride": stride}.items():
        if value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}.")
    if padding < 0:
        raise ValueError(f"padding must be 0 or more, got {padding}.")
    padded = size + 2 * padding
    if kernel_size > padded:
        raise ValueError(
            f"A {kernel_size}x{kernel_size} kernel does not fit in a {padded}x{padded} input "
            f"(size {size} with padding {padding}); use a smaller kernel or more padding."
        )
    return (padded - kernel_size) // stride + 1


def pool_output_size(size: int, window: int = 2, stride: int | None = None) -> int:
    """Side length after pooling with a square ``window`` (stride defaults to the window).

    S2 of LeNet-5: ``pool_output_size(28, 2) == 14``. Introduced in the S2 chapter.
    """
    return conv_output_size(size, window, stride=window if stride is None else stride)


def count_parameters(module: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) scalar parameters in ``module``. Introduced in the implementation chapter."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def conv_parameters(in_channels: int, out_channels: int, kernel_size: int, bias: bool = True) -> int:
    """Parameters of a fully connected convolution layer: one k*k*in kernel (+ bias) per output map.

    C1: ``conv_parameters(1, 6, 5) == 156``; C3 as the article builds it: ``2416``.
    """
    return out_channels * (in_channels * kernel_size * kernel_size + int(bias))


def linear_parameters(in_features: int, out_features: int, bias: bool = True) -> int:
    """Parameters of a fully connected layer: ``out * (in + 1)`` with a bias."""
    return out_features * (in_features + int(bias))


def conv_connections(in_channels: int, out_channels: int, kernel_size: int, out_size: int, bias: bool = True) -> int:
    """Connections of a convolution layer as the 1998 paper counts them.

    Every output unit (``out_channels * out_size**2`` of them) has one connection per input
    it reads plus one to its bias. C1: ``conv_connections(1, 6, 5, 28) == 122_304``.
    """
    return out_channels * out_size * out_size * (in_channels * kernel_size * kernel_size + int(bias))


@dataclass(frozen=True)
class LayerTrace:
    """One row of a shape trace: a submodule's name, type, output shape and parameter count."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    parameters: int

    @property
    def features(self) -> int:
        """Values per example in the output (e.g. 6*28*28 = 4,704 for C1)."""
        return math.prod(self.output_shape[1:])


def trace_shapes(model: nn.Module, x: torch.Tensor) -> list[LayerTrace]:
    """Run ``x`` through ``model`` and record each direct submodule's output shape with forward hooks.

    Returns one :class:`LayerTrace` per submodule, in the order they ran. The model is left
    unchanged (hooks are removed, no gradients are kept). Introduced in the data-flow chapter.
    """
    rows: list[LayerTrace] = []
    handles = []

    def make_hook(name: str, module: nn.Module):
        def hook(_module, _inputs, output):
            rows.append(LayerTrace(name, type(module).__name__, tuple(output.shape), count_parameters(module)))

        return hook

    for name, module in model.named_children():
        handles.append(module.register_forward_hook(make_hook(name, module)))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return rows


def format_trace(rows: list[LayerTrace], input_shape: tuple[int, ...] | None = None) -> str:
    """A plain-text table of a shape trace, one line per layer, with a parameter total."""
    lines = [f"{'layer':<8}{'type':<12}{'output shape':<22}{'values':>8}{'params':>10}"]
    if input_shape is not None:
        n = math.prod(input_shape[1:])
        lines.append(f"{'input':<8}{'':<12}{str(tuple(input_shape)):<22}{n:>8,}{0:>10,}")
    for r in rows:
        lines.append(f"{r.name:<8}{r.kind:<12}{str(r.output_shape):<22}{r.features:>8,}{r.parameters:>10,}")
    lines.append(f"{'total':<42}{sum(r.parameters for r in rows):>18,}")
    return "\n".join(lines)


def connections(model: nn.Module, input_size: int = 32) -> dict[str, int]:
    """Connections of every layer of a model built from Conv2d, MaxPool2d/AvgPool2d and Linear
    layers (or layers with a ``count_connections(output_shape)`` method, like the 1998
    network's), counted the paper's way from a live shape trace: each output unit has one
    connection per input it reads, plus one to its bias if it has one.

    The article's LeNet-5: C1 122,304, S2 4,704, C3 241,600, S4 1,600, F5 48,120, F6 10,164,
    output 850. Introduced in the chapter on the 1998 network.
    """
    device = next(model.parameters()).device
    rows = trace_shapes(model, torch.zeros(1, 1, input_size, input_size, device=device))
    counts = {}
    for row in rows:
        module = getattr(model, row.name)
        outputs = row.features
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            counts[row.name] = outputs * (module.in_channels * k // module.groups + int(module.bias is not None))
        elif isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            window = side_of(module.kernel_size)
            counts[row.name] = outputs * window * window
        elif isinstance(module, nn.Linear):
            counts[row.name] = outputs * (module.in_features + int(module.bias is not None))
        elif hasattr(module, "count_connections"):  # a layer that knows its own wiring
            counts[row.name] = module.count_connections(row.output_shape)
        else:
            raise TypeError(f"connections() does not know how to count a {type(module).__name__} ({row.name}).")
    return counts


def layer_counts(model: nn.Module, input_size: int = 32) -> dict[str, dict[str, int]]:
    """Trainable parameters and connections of every layer of ``model``, in order.

    ``{"c1": {"parameters": 156, "connections": 122_304}, ...}``: the table the 1998 paper
    prints for its network, computed from the layers. Introduced in the 1998 chapter.
    """
    conns = connections(model, input_size)
    return {name: {"parameters": count_parameters(getattr(model, name)), "connections": n}
            for name, n in conns.items()}


@dataclass(frozen=True)
class ReceptiveField:
    """How much of the input one unit of a layer sees: ``size`` x ``size`` pixels, and ``jump``
    pixels between the fields of neighbouring units (the product of the strides so far)."""

    name: str
    size: int
    jump: int

    def box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """The input pixels (top, left, bottom, right), inclusive, seen by unit (row, col) of this layer."""
        top, left = row * self.jump, col * self.jump
        return top, left, top + self.size - 1, left + self.size - 1


def receptive_fields(model: nn.Module, input_size: int = 32) -> list[ReceptiveField]:
    """The receptive field of every layer of a LeNet-style ``model``, computed layer by layer.

    A layer with a k x k window and stride s grows the field by (k - 1) times the current jump and
    multiplies the jump by s. A fully connected layer after a stage of maps acts like a window as
    large as those maps. Introduced in the local receptive fields chapter.
    """
    rows = trace_shapes(model, torch.zeros(1, 1, input_size, input_size, device=next(model.parameters()).device))
    size, jump, side = 1, 1, input_size
    fields = []
    for row in rows:
        module = getattr(model, row.name)
        if hasattr(module, "kernel_size"):
            kernel, stride = side_of(module.kernel_size), side_of(getattr(module, "stride", 1))
        elif len(row.output_shape) == 4 and row.output_shape[2] * 2 == side:  # 2x2 subsampling
            kernel, stride = 2, 2
        elif len(row.output_shape) == 2 and side > 1:  # first fully connected layer over the last maps
            kernel, stride = side, 1
        else:  # a unit-wise layer on vectors: nothing changes
            kernel, stride = 1, 1
        size = min(size + (kernel - 1) * jump, input_size)
        jump *= stride
        side = row.output_shape[2] if len(row.output_shape) == 4 else 1
        fields.append(ReceptiveField(row.name, size, jump))
    return fields
