"""LeNet-5 as the article builds it: the layer sizes, the model, and its stage-by-stage outputs.

The layer sizes below are computed with the arithmetic of :mod:`lenet_course.shapes`, so the
400 of the flatten is derived, not typed in. This module knows no files, no data and no
training: loading the shipped weights is :mod:`lenet_course.checkpoints`' job. Introduced in
the PyTorch implementation chapter; the layer chapters use :meth:`LeNet5.stages`.
"""

from __future__ import annotations

import torch
from torch import nn

from .inputs import INPUT_SIZE, check_input
from .shapes import conv_output_size, pool_output_size

KERNEL_SIZE = 5  # C1 and C3 both use 5x5 kernels
POOL_SIZE = 2  # S2 and S4 take the maximum of each 2x2 block
C1_MAPS, C3_MAPS = 6, 16
C1_SIZE = conv_output_size(INPUT_SIZE, KERNEL_SIZE)  # 28
S2_SIZE = pool_output_size(C1_SIZE, POOL_SIZE)  # 14
C3_SIZE = conv_output_size(S2_SIZE, KERNEL_SIZE)  # 10
S4_SIZE = pool_output_size(C3_SIZE, POOL_SIZE)  # 5
STAGES = ("c1", "s2", "c3", "s4", "f5", "f6", "output")  # the paper's names, in order


def flatten_features(input_size: int = INPUT_SIZE) -> int:
    """Length of the flattened S4 output for a square input of ``input_size`` pixels.

    400 for the 32x32 input: 16 maps of 5x5. Introduced in the S4 chapter.
    """
    side = pool_output_size(conv_output_size(input_size, KERNEL_SIZE), POOL_SIZE)  # C1, S2
    side = pool_output_size(conv_output_size(side, KERNEL_SIZE), POOL_SIZE)  # C3, S4
    return C3_MAPS * side * side


FLAT_FEATURES = flatten_features(INPUT_SIZE)  # 400
F5_UNITS, F6_UNITS, NUM_CLASSES = 120, 84, 10


class LeNet5(nn.Module):
    """The article's LeNet-5: two conv/max-pool stages, then three fully connected layers.

    Input: float tensor (N, 1, 32, 32), normalised pixels. Output: (N, 10) class scores
    (logits; apply softmax for probabilities). 61,706 trainable parameters.
    """

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, C1_MAPS, kernel_size=KERNEL_SIZE)  # 1x32x32 -> 6x28x28
        self.s2 = nn.MaxPool2d(kernel_size=POOL_SIZE, stride=POOL_SIZE)  # -> 6x14x14
        self.c3 = nn.Conv2d(C1_MAPS, C3_MAPS, kernel_size=KERNEL_SIZE)  # -> 16x10x10
        self.s4 = nn.MaxPool2d(kernel_size=POOL_SIZE, stride=POOL_SIZE)  # -> 16x5x5
        self.f5 = nn.Linear(FLAT_FEATURES, F5_UNITS)  # 400 -> 120
        self.f6 = nn.Linear(F5_UNITS, F6_UNITS)  # 120 -> 84
        self.output = nn.Linear(F6_UNITS, NUM_CLASSES)  # 84 -> 10

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The feature extractor: (N, 1, 32, 32) -> (N, 400) flattened S4 maps."""
        check_input(x)
        # ReLU after pooling gives exactly the article's relu-then-pool (max and ReLU
        # commute) while applying ReLU to 4x fewer values.
        x = torch.relu(self.s2(self.c1(x)))  # c1: (N, 6, 28, 28) -> s2: (N, 6, 14, 14)
        x = torch.relu(self.s4(self.c3(x)))  # c3: (N, 16, 10, 10) -> s4: (N, 16, 5, 5)
        return torch.flatten(x, 1)  # (N, 400)

    def classifier(self, z: torch.Tensor) -> torch.Tensor:
        """The classifier head: (N, 400) features -> (N, 10) logits."""
        z = torch.relu(self.f5(z))  # (N, 120)
        z = torch.relu(self.f6(z))  # (N, 84)
        return self.output(z)  # (N, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 32, 32) normalised images -> (N, 10) logits."""
        return self.classifier(self.features(x))

    def stages(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every stage's output, named as in the paper, in the article's order of operations.

        ``c1`` and ``c3`` are the convolutions after their ReLU, ``s2`` and ``s4`` the max
        pools of those, ``f5`` and ``f6`` the fully connected layers after their ReLU, and
        ``output`` the logits (equal to ``forward(x)``). Gradients flow as usual; wrap the
        call in ``torch.no_grad()`` to only look. Introduced in the C1 chapter.
        """
        check_input(x)
        out = {}
        out["c1"] = torch.relu(self.c1(x))  # (N, 6, 28, 28)
        out["s2"] = self.s2(out["c1"])  # (N, 6, 14, 14)
        out["c3"] = torch.relu(self.c3(out["s2"]))  # (N, 16, 10, 10)
        out["s4"] = self.s4(out["c3"])  # (N, 16, 5, 5)
        out["f5"] = torch.relu(self.f5(torch.flatten(out["s4"], 1)))  # (N, 120)
        out["f6"] = torch.relu(self.f6(out["f5"]))  # (N, 84)
        out["output"] = self.output(out["f6"])  # (N, 10)
        return out
