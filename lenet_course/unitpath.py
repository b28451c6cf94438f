"""One path of single units through LeNet-5, with every number on it computed by hand.

:func:`unit_path` picks one unit per layer backwards from the predicted class and recomputes
each value (patch x kernel + bias, ReLU, 2x2 max, the long sums of the full layers, softmax)
from the network's own values of the layer below. The data-flow chapter asserts each one equal
to ``model.stages(x)``; :func:`lenet_course.viz.draw_unit_path` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .models import LeNet5
from .shapes import side_of


@dataclass(frozen=True)
class UnitPath:
    """One path of single units through LeNet5 for one digit, with the numbers of each step,
    computed by hand (multiply, add, ReLU, max) rather than read from the layers.

    Positions are (row, column) in each map, counted from 0; ``c1_at`` is also the top-left
    corner of the 5x5 input patch. ``*_pre`` values are before the ReLU. The path is picked
    backwards from the predicted class, greedily: at each layer, the input whose weight x value
    is the largest single product feeding the unit already picked (for a max pool, the input
    the max took). See :func:`unit_path`.
    """

    image: torch.Tensor  # (32, 32) the normalised input
    c1_map: int
    c1_at: tuple[int, int]
    patch: torch.Tensor  # (5, 5) the input pixels under the C1 unit's window
    kernel: torch.Tensor  # (5, 5) that map's weights
    c1_bias: float
    c1_pre: float
    c1: float
    c1_maps: torch.Tensor  # (28, 28) the whole C1 map, after ReLU
    s2_at: tuple[int, int]
    s2_window: torch.Tensor  # (2, 2) the C1 values it pools
    s2: float
    c3_map: int
    c3_at: tuple[int, int]
    c3_per_input: torch.Tensor  # (6,) the sum of 25 products from each S2 map
    c3_bias: float
    c3_pre: float
    c3: float
    s4_at: tuple[int, int]
    s4_window: torch.Tensor  # (2, 2)
    s4: float
    f5_unit: int
    f5_top: tuple[float, float]  # (input, weight) of its largest product: the S4 value above
    f5_bias: float
    f5_pre: float
    f5: float
    f6_unit: int
    f6_top: tuple[float, float]  # (input, weight): the F5 unit above
    f6_bias: float
    f6_pre: float
    f6: float
    output_class: int
    output_top: tuple[float, float]  # (input, weight): the F6 unit above
    output_bias: float
    logit: float
    runner_up: tuple[int, float]  # the second most likely class and its logit
    probability: float


def _top(values: torch.Tensor) -> tuple[int, ...]:
    """The index (as a tuple) of the largest value of ``values``."""
    return tuple(int(i) for i in np.unravel_index(int(values.argmax()), tuple(values.shape)))


def unit_path(model: LeNet5, x: torch.Tensor) -> UnitPath:
    """Follow one digit ``x`` (1, 1, 32, 32) through ``model`` one unit per layer, with numbers.

    Picks the path backwards from the predicted class: at each layer, the input whose weight x
    value is the largest single product into the unit already picked (a greedy choice, one
    layer at a time; through a max pool, the input the max took). Then recomputes every value on
    the path by hand, from the network's own values of the layer below. The data-flow chapter
    asserts each one equal to ``model.stages(x)``.
    """
    was_training = model.training
    model.eval()
    with torch.no_grad():
        maps = {name: value[0] for name, value in model.stages(x).items()}
        cls = int(maps["output"].argmax())
        output_products = model.output.weight[cls] * maps["f6"]  # (84,)
        f6_unit = int(output_products.argmax())
        f6_products = model.f6.weight[f6_unit] * maps["f5"]  # (120,)
        f5_unit = int(f6_products.argmax())
        flat = maps["s4"].reshape(-1)  # (400,) in the order flatten uses
        f5_products = model.f5.weight[f5_unit] * flat  # (400,)
        m4, r4, q4 = _top(f5_products.view(maps["s4"].shape))
        dr, dc = _top(maps["c3"][m4, 2 * r4:2 * r4 + 2, 2 * q4:2 * q4 + 2])
        r3, q3 = 2 * r4 + dr, 2 * q4 + dc
        k = side_of(model.c3.kernel_size)
        windows = maps["s2"][:, r3:r3 + k, q3:q3 + k]  # (6, 5, 5)
        products = model.c3.weight[m4] * windows  # (6, 5, 5): the 150 products
        m2, dr, dc = _top(products)  # the largest of the 150
        r2, q2 = r3 + dr, q3 + dc
        dr, dc = _top(maps["c1"][m2, 2 * r2:2 * r2 + 2, 2 * q2:2 * q2 + 2])
        r1, q1 = 2 * r2 + dr, 2 * q2 + dc
        # Forward again by hand, one multiply-and-add at a time.
        k = side_of(model.c1.kernel_size)
        patch, kernel = x[0, 0, r1:r1 + k, q1:q1 + k], model.c1.weight[m2, 0]  # (5, 5) each
        c1_bias = float(model.c1.bias[m2])
        c1_pre = float((patch * kernel).sum()) + c1_bias
        s2_window = maps["c1"][m2, 2 * r2:2 * r2 + 2, 2 * q2:2 * q2 + 2]
        per_input = products.sum(dim=(1, 2))  # (6,)
        c3_bias = float(model.c3.bias[m4])
        c3_pre = float(per_input.sum()) + c3_bias
        s4_window = maps["c3"][m4, 2 * r4:2 * r4 + 2, 2 * q4:2 * q4 + 2]
        f5_bias, f6_bias, output_bias = (float(model.f5.bias[f5_unit]), float(model.f6.bias[f6_unit]),
                                         float(model.output.bias[cls]))
        f5_pre = float(f5_products.sum()) + f5_bias
        f6_pre = float(f6_products.sum()) + f6_bias
        logit = float(output_products.sum()) + output_bias
        second = int(maps["output"].topk(2).indices[1])
        probability = float(torch.softmax(maps["output"], dim=0)[cls])
        q = int(f5_products.argmax())  # the S4 value picked above, as an index into the 400
        tops = ((float(flat[q]), float(model.f5.weight[f5_unit, q])),
                (float(maps["f5"][f5_unit]), float(model.f6.weight[f6_unit, f5_unit])),
                (float(maps["f6"][f6_unit]), float(model.output.weight[cls, f6_unit])))
    model.train(was_training)
    patch, kernel, s2_window, s4_window, per_input = (t.detach().cpu() for t in (patch, kernel, s2_window,
                                                                                s4_window, per_input))
    return UnitPath(
        image=x[0, 0].detach().cpu(), c1_map=m2, c1_at=(r1, q1), patch=patch, kernel=kernel,
        c1_bias=c1_bias, c1_pre=c1_pre, c1=max(c1_pre, 0.0), c1_maps=maps["c1"][m2].detach().cpu(),
        s2_at=(r2, q2), s2_window=s2_window, s2=float(s2_window.max()), c3_map=m4, c3_at=(r3, q3),
        c3_per_input=per_input, c3_bias=c3_bias, c3_pre=c3_pre, c3=max(c3_pre, 0.0), s4_at=(r4, q4),
        s4_window=s4_window, s4=float(s4_window.max()), f5_unit=f5_unit, f5_top=tops[0], f5_bias=f5_bias,
        f5_pre=f5_pre, f5=max(f5_pre, 0.0), f6_unit=f6_unit, f6_top=tops[1], f6_bias=f6_bias, f6_pre=f6_pre,
        f6=max(f6_pre, 0.0), output_class=cls, output_top=tops[2], output_bias=output_bias, logit=logit,
        runner_up=(second, float(maps["output"][second])), probability=probability)
