"""LeNet-5 as the 1998 paper built it (section II-B and Appendix A of LeCun et al.).

This module starts with the data that defines the paper's C3 layer: which S2 maps each of the
sixteen C3 maps reads (the paper's Table I). Then the paper's parts (the squashing function,
trainable subsampling, the partially connected C3, the RBF output units, the MAP loss) and the
network built from them. Each unusual layer counts its own connections the paper's way, so
:func:`lenet_course.shapes.layer_counts` can reproduce the paper's numbers from the layers.
Like :mod:`lenet_course.models` it knows no files, no data and no training. Introduced in the
C3 chapter; the 1998 chapter builds the whole classic network on it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .inputs import MNIST_MEAN, MNIST_STD, check_input

# C3 map -> the S2 maps it takes as input, read off Table I of the paper.
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


def c3_connection_mask(table: tuple[tuple[int, ...], ...] = C3_TABLE, in_maps: int = 6) -> torch.Tensor:
    """The table as a (16, 6) 0/1 matrix: ``mask[o, i] == 1`` when C3 map ``o`` reads S2 map ``i``."""
    mask = torch.zeros(len(table), in_maps)
    for out_map, inputs in enumerate(table):
        mask[out_map, list(inputs)] = 1.0
    return mask


# --- the network of the paper ----------------------------------------------------------------

A, S = 1.7159, 2.0 / 3.0  # the squashing function f(a) = A tanh(S a) of the paper's Appendix A
PAPER_BACKGROUND, PAPER_INK = -0.1, 1.175  # the paper's input scaling: white paper -0.1, black ink 1.175
MAP_J = 1.0  # the positive constant j of the MAP loss (eq. 9): the score of the "rubbish" class is -j

# Stylised 7x12 bitmaps of the ten digits, the fixed centres of the output RBF units ('#' = +1, '.' = -1).
DIGIT_BITMAPS: tuple[tuple[str, ...], ...] = (
    ("..###..", ".#...#.", "#.....#", "#.....#", "#.....#", "#.....#",
     "#.....#", "#.....#", "#.....#", "#.....#", ".#...#.", "..###.."),
    ("...#...", "..##...", ".#.#...", "...#...", "...#...", "...#...",
     "...#...", "...#...", "...#...", "...#...", "...#...", ".#####."),
    (".#####.", "#.....#", "......#", "......#", ".....#.", "....#..",
     "...#...", "..#....", ".#.....", "#......", "#......", "#######"),
    (".#####.", "#.....#", "......#", "......#", "......#", "..####.",
     "......#", "......#", "......#", "......#", "#.....#", ".#####."),
    ("....##.", "...#.#.", "..#..#.", ".#...#.", "#....#.", "#....#.",
     "#######", ".....#.", ".....#.", ".....#.", ".....#.", ".....#."),
    ("#######", "#......", "#......", "#......", "######.", "......#",
     "......#", "......#", "......#", "......#", "#.....#", ".#####."),
    ("..####.", ".#.....", "#......", "#......", "#.####.", "##....#",
     "#.....#", "#.....#", "#.....#", "#.....#", ".#...#.", "..###.."),
    ("#######", "......#", "......#", ".....#.", ".....#.", "....#..",
     "....#..", "...#...", "...#...", "..#....", "..#....", "..#...."),
    (".#####.", "#.....#", "#.....#", "#.....#", ".#...#.", "..###..",
     ".#...#.", "#.....#", "#.....#", "#.....#", "#.....#", ".#####."),
    ("..###..", ".#...#.", "#.....#", "#.....#", "#.....#", "#....##",
     ".####.#", "......#", "......#", "......#", ".....#.", ".####.."),
)


def squash(a: torch.Tensor) -> torch.Tensor:
    """The paper's activation f(a) = 1.7159 tanh(2a/3): f(1) = 1 and f(-1) = -1."""
    return A * torch.tanh(S * a)


def rbf_centres() -> torch.Tensor:
    """The ten 84-dimensional RBF centres (10, 84) of +1 and -1, read from :data:`DIGIT_BITMAPS`."""
    rows = [[1.0 if ch == "#" else -1.0 for line in bitmap for ch in line] for bitmap in DIGIT_BITMAPS]
    return torch.tensor(rows)


def to_paper_scale(x: torch.Tensor) -> torch.Tensor:
    """Course-normalised images -> the paper's scale (background -0.1, ink 1.175)."""
    pixels = x * MNIST_STD + MNIST_MEAN  # back to [0, 1]
    return PAPER_BACKGROUND + (PAPER_INK - PAPER_BACKGROUND) * pixels


def _units(shape: tuple[int, ...]) -> int:
    """Units per example in an output of ``shape`` (N, ...)."""
    return math.prod(shape[1:])


def _paper_init(tensor: torch.Tensor, fan_in: int) -> None:
    """Uniform in +-2.4 / fan_in, the paper's initialisation."""
    bound = 2.4 / fan_in
    nn.init.uniform_(tensor, -bound, bound)


class Subsampling(nn.Module):
    """The paper's S2/S4: sum each 2x2 block, times one trainable coefficient per map, plus one bias per map."""

    def __init__(self, maps: int) -> None:
        super().__init__()
        self.coefficient = nn.Parameter(torch.empty(maps))
        self.bias = nn.Parameter(torch.zeros(maps))
        _paper_init(self.coefficient, fan_in=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        block_sums = F.avg_pool2d(x, 2) * 4  # (N, C, H/2, W/2)
        return block_sums * self.coefficient[:, None, None] + self.bias[:, None, None]

    def count_connections(self, output_shape: tuple[int, ...]) -> int:
        """Each output unit reads a 2x2 block and its bias: 5 connections per unit."""
        return _units(output_shape) * (4 + 1)


class PartialConv2d(nn.Module):
    """A 5x5 convolution in which output map ``o`` reads only the input maps ``table[o]`` (the paper's C3).

    Only the kernels in use are parameters: 60 slices of 5x5 plus 16 biases = 1,516 for Table I.
    """

    def __init__(self, table: tuple[tuple[int, ...], ...] = C3_TABLE, in_maps: int = 6, kernel_size: int = 5) -> None:
        super().__init__()
        self.out_maps, self.in_maps, self.kernel_size = len(table), in_maps, kernel_size
        pairs = [o * in_maps + i for o, inputs in enumerate(table) for i in inputs]
        self.register_buffer("slots", torch.tensor(pairs), persistent=False)
        self.weight = nn.Parameter(torch.empty(len(pairs), kernel_size * kernel_size))
        self.bias = nn.Parameter(torch.empty(len(table)))
        fan_in = torch.tensor([len(inputs) * kernel_size * kernel_size for inputs in table])
        for slot, out_map in enumerate(o for o, inputs in enumerate(table) for _ in inputs):
            _paper_init(self.weight.data[slot], int(fan_in[out_map]))
        for o in range(len(table)):
            _paper_init(self.bias.data[o:o + 1], int(fan_in[o]))

    def full_weight(self) -> torch.Tensor:
        """The kernels as a dense (16, 6, 5, 5) tensor, zero where Table I has no connection."""
        k = self.kernel_size
        dense = torch.zeros(self.out_maps * self.in_maps, k * k, device=self.weight.device, dtype=self.weight.dtype)
        dense = dense.index_copy(0, self.slots, self.weight)
        return dense.view(self.out_maps, self.in_maps, k, k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.full_weight(), self.bias)

    def count_connections(self, output_shape: tuple[int, ...]) -> int:
        """Each unit of map ``o`` reads ``len(table[o])`` 5x5 windows and its bias."""
        per_map = output_shape[-1] * output_shape[-2]
        k = self.kernel_size * self.kernel_size
        return per_map * (len(self.slots) * k + self.out_maps)


class RBFOutput(nn.Module):
    """Ten Euclidean RBF units y_i = sum_j (x_j - w_ij)^2 with fixed centres w (no trainable parameters)."""

    def __init__(self, centres: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("centres", centres.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x[:, None, :] - self.centres[None]) ** 2).sum(dim=2)  # (N, 10) penalties

    def count_connections(self, output_shape: tuple[int, ...]) -> int:
        """Each RBF unit reads all 84 F6 values (and has no bias)."""
        return _units(output_shape) * self.centres.shape[1]


class LeNet5Classic(nn.Module):
    """LeNet-5 as published in 1998: squashing tanh units, trainable subsampling, C3 wired by Table I,
    C5 as a convolution, F6 of 84 units, and Euclidean RBF outputs centred on 7x12 digit bitmaps.

    Takes the same course-normalised (N, 1, 32, 32) input as :class:`~lenet_course.models.LeNet5` and
    rescales it to the paper's range first. ``forward`` returns scores = minus the RBF penalties, so
    ``argmax`` predicts and :func:`map_loss` trains. 60,000 trainable parameters.
    """

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)  # 1x32x32 -> 6x28x28
        self.s2 = Subsampling(6)  # -> 6x14x14
        self.c3 = PartialConv2d(C3_TABLE)  # -> 16x10x10
        self.s4 = Subsampling(16)  # -> 16x5x5
        self.c5 = nn.Conv2d(16, 120, 5)  # -> 120x1x1
        self.f6 = nn.Linear(120, 84)  # -> 84
        self.output = RBFOutput(rbf_centres())  # -> 10 penalties
        for layer, fan_in in ((self.c1, 25), (self.c5, 16 * 25), (self.f6, 120)):
            _paper_init(layer.weight.data, fan_in)
            _paper_init(layer.bias.data, fan_in)

    def f6_state(self, x: torch.Tensor) -> torch.Tensor:
        """The 84 F6 values that the RBF units compare with the digit bitmaps: (N, 1, 32, 32) -> (N, 84)."""
        check_input(x, model_name="LeNet5Classic")
        x = to_paper_scale(x)
        x = squash(self.s2(squash(self.c1(x))))  # (N, 6, 14, 14)
        x = squash(self.s4(squash(self.c3(x))))  # (N, 16, 5, 5)
        x = squash(self.c5(x)).flatten(1)  # (N, 120)
        return squash(self.f6(x))  # (N, 84)

    def stages(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every stage's output after its squashing function, named as in the paper.

        ``c1`` (N, 6, 28, 28), ``s2`` (N, 6, 14, 14), ``c3`` (N, 16, 10, 10), ``s4``
        (N, 16, 5, 5), ``c5`` (N, 120), ``f6`` (N, 84), ``output`` the scores (N, 10),
        equal to ``forward(x)``.
        """
        check_input(x, model_name="LeNet5Classic")
        out = {}
        out["c1"] = squash(self.c1(to_paper_scale(x)))  # (N, 6, 28, 28)
        out["s2"] = squash(self.s2(out["c1"]))  # (N, 6, 14, 14)
        out["c3"] = squash(self.c3(out["s2"]))  # (N, 16, 10, 10)
        out["s4"] = squash(self.s4(out["c3"]))  # (N, 16, 5, 5)
        out["c5"] = squash(self.c5(out["s4"])).flatten(1)  # (N, 120)
        out["f6"] = squash(self.f6(out["c5"]))  # (N, 84)
        out["output"] = -self.output(out["f6"])  # (N, 10)
        return out

    def penalties(self, x: torch.Tensor) -> torch.Tensor:
        """The RBF outputs y_i (N, 10): squared distance of F6's state to each digit's bitmap."""
        return self.output(self.f6_state(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores (N, 10) = -penalties: the largest score is the closest bitmap."""
        return -self.penalties(x)


def map_loss(scores: torch.Tensor, y: torch.Tensor, j: float = MAP_J) -> torch.Tensor:
    """The paper's MAP criterion (eq. 9), averaged over the batch, from scores = -penalties:

    E = y_correct + log(exp(-j) + sum_i exp(-y_i)). It is cross-entropy over the ten classes plus a
    "rubbish" class of constant score -j, which keeps the penalties from all collapsing together.
    """
    rubbish = torch.full((scores.shape[0], 1), -j, dtype=scores.dtype, device=scores.device)
    return F.cross_entropy(torch.cat([scores, rubbish], dim=1), y)
