"""Exercise answer-checkers. Each prints a one-line verdict and returns True or False.

A checker compares a learner's answer with a value computed from the course's own code, so
it never holds a hard-coded answer that could drift from the model.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from . import shapes
from .models import LeNet5, flatten_features


def _verdict(ok: bool, good: str, bad: str) -> bool:
    print(("Correct: " + good) if ok else ("Not yet: " + bad))
    return ok


def check_output_size(fn: Callable[..., int]) -> bool:
    """Check a learner's ``fn(size, kernel_size, stride=1, padding=0)`` against the output-size rule."""
    cases = [(32, 5, 1, 0), (28, 2, 2, 0), (14, 5, 1, 0), (10, 2, 2, 0), (28, 5, 1, 2), (32, 3, 2, 1), (7, 7, 1, 0)]
    for size, k, s, p in cases:
        expected = shapes.conv_output_size(size, k, s, p)
        try:
            got = fn(size, k, stride=s, padding=p)
        except Exception as exc:  # a learner's function may raise anything
            return _verdict(False, "", f"fn({size}, {k}, stride={s}, padding={p}) raised {exc!r}.")
        if got != expected:
            return _verdict(False, "", f"fn({size}, {k}, stride={s}, padding={p}) returned {got!r}; "
                                       "remember (size + 2*padding - kernel_size) // stride + 1.")
    return _verdict(True, f"your function agrees with the rule on all {len(cases)} cases.", "")


def check_parameter_count(layer: str, answer: int) -> bool:
    """Check a hand-computed parameter count for one layer of :class:`LeNet5` (``"c1"``, ``"f5"``, ...)."""
    model = LeNet5()
    names = [name for name, module in model.named_children() if shapes.count_parameters(module) > 0]
    if layer not in names:
        return _verdict(False, "", f"{layer!r} has no parameters in LeNet5; try one of {names}.")
    expected = shapes.count_parameters(getattr(model, layer))
    return _verdict(int(answer) == expected, f"{layer} has {expected:,} parameters.",
                    f"{answer:,} is not the parameter count of {layer}; count the weights and add one bias per output.")


def check_lenet5(model: nn.Module) -> bool:
    """Check that a learner's LeNet-5 maps (N, 1, 32, 32) to (N, 10) with the article's parameter count."""
    expected_params = shapes.count_parameters(LeNet5())
    try:
        out = model(torch.zeros(2, 1, 32, 32))
    except Exception as exc:
        return _verdict(False, "", f"the model raised {exc!r} on a (2, 1, 32, 32) batch.")
    if tuple(out.shape) != (2, 10):
        return _verdict(False, "", f"output shape is {tuple(out.shape)}, expected (2, 10): one score per digit class.")
    params = shapes.count_parameters(model)
    return _verdict(params == expected_params, f"output (N, 10) and {params:,} parameters, as in the article.",
                    f"{params:,} parameters, expected {expected_params:,}; compare each layer's size with the article's.")


def check_flatten_size(fn: Callable[[int], int]) -> bool:
    """Check a learner's ``fn(input_size)``: LeNet-5's flatten length for a square input of that size."""
    for size in (32, 28, 36, 64, 100):
        expected = flatten_features(size)
        try:
            got = fn(size)
        except Exception as exc:
            return _verdict(False, "", f"fn({size}) raised {exc!r}.")
        if got != expected:
            return _verdict(False, "", f"fn({size}) returned {got!r}; chain C1, S2, C3 and S4 and multiply by the 16 maps.")
    return _verdict(True, "your function gives the flatten length for every input size tried.", "")


def check_receptive_field(layer: str, answer: int) -> bool:
    """Check a hand-computed receptive-field side (in input pixels) for one layer of :class:`LeNet5`."""
    fields = {f.name: f.size for f in shapes.receptive_fields(LeNet5())}
    if layer not in fields:
        return _verdict(False, "", f"{layer!r} is not a layer of LeNet5; try one of {list(fields)}.")
    return _verdict(int(answer) == fields[layer], f"a {layer} unit sees {fields[layer]}x{fields[layer]} input pixels.",
                    f"{answer} is not the receptive field of {layer}; add (kernel - 1) x jump for each layer on the way.")
