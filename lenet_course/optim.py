"""Muon: an optimiser that steps each weight matrix along its momentum, orthogonalised.

Adam scales every number of the gradient on its own. Muon ("MomentUm Orthogonalized by Newton-
Schulz", Keller Jordan, 2024) treats a layer's weights as one matrix: it keeps a momentum of the
gradient, as SGD with momentum does, and replaces that matrix M = U S V^T by its orthogonal part
U V^T, the matrix with the same singular vectors and every singular value 1. So each step moves
the layer the same amount in every direction the gradient points to, however lopsided the
gradient is. A few Newton-Schulz iterations, matrix products only, approximate U V^T without a
singular value decomposition. A convolution's kernels count as one matrix, one row per output
map (C3: 16 rows of 6x5x5 = 150 weights). Biases are vectors, not matrices, and get Adam.

Introduced in the "Training LeNet-5 fast" chapter, whose one-epoch recipe uses it.
"""

from __future__ import annotations

import math
from typing import Iterable

import torch

# The quintic Newton-Schulz coefficients of Jordan's reference implementation, chosen to push
# singular values towards 1 fast rather than exactly: five iterations take every singular value
# from 0.003 to 1 (after the scaling below) to between about 0.68 and 1.2, which suffices.
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_STEPS = 5


def orthogonalize(matrix: torch.Tensor, steps: int = NS_STEPS) -> torch.Tensor:
    """An approximation of U V^T for ``matrix`` = U S V^T (2-D), by ``steps`` Newton-Schulz
    iterations in float32: X <- a X + (b A + c A^2) X with A = X X^T, after scaling X to
    Frobenius norm 1 so that every singular value starts at most 1. Each iteration maps every
    singular value s to a s + b s^3 + c s^5 and leaves the singular vectors alone."""
    if matrix.ndim != 2:
        raise ValueError(f"orthogonalize takes a 2-D matrix, got shape {tuple(matrix.shape)}.")
    a, b, c = NS_COEFFICIENTS
    x = matrix.float()
    wide = x.shape[0] <= x.shape[1]
    if not wide:
        x = x.T  # iterate on the wide side: A = X X^T is then the smaller square
    x = x / (x.norm() + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        poly = torch.addmm(gram, gram, gram, beta=b, alpha=c)  # b A + c A^2, one fused product
        x = torch.addmm(x, poly, x, beta=a)  # a X + (b A + c A^2) X
    return x if wide else x.T


class Muon(torch.optim.Optimizer):
    """Muon for the parameters with two or more dimensions (weight matrices, convolution
    kernels), Adam for the rest (biases) and for any in ``adam_params`` (such as the output
    layer's weights, which Muon's author leaves to Adam), in one optimiser with two parameter
    groups.

    ``muon_lr`` is the Muon group's learning rate, ``lr`` the Adam group's; ``betas[0]`` is both
    groups' momentum (so a one-cycle schedule that cycles Adam's beta1 cycles Muon's momentum
    too). Muon's step: buffer <- beta1 * buffer + gradient; the Nesterov look-ahead
    gradient + beta1 * buffer, reshaped to one row per output unit or map and orthogonalised;
    the step is that times ``muon_lr`` times sqrt(max(1, rows / columns)), so that a tall
    matrix (more outputs than inputs) moves as much per row as a wide one. ``ns_steps``
    Newton-Schulz iterations orthogonalise (:func:`orthogonalize`). No weight decay.
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3, muon_lr: float = 0.02,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, ns_steps: int = NS_STEPS,
                 adam_params: Iterable[torch.Tensor] = ()) -> None:
        params = list(params)
        if not params:
            raise ValueError("Muon got no parameters to optimise.")
        if lr <= 0 or muon_lr <= 0:
            raise ValueError(f"learning rates must be positive, got lr={lr} and muon_lr={muon_lr}.")
        if ns_steps < 1:
            raise ValueError(f"ns_steps must be at least 1, got {ns_steps}.")
        to_adam = {id(p) for p in adam_params}
        if to_adam - {id(p) for p in params}:
            raise ValueError("adam_params must be among params.")
        matrices = [p for p in params if p.ndim >= 2 and id(p) not in to_adam]
        others = [p for p in params if p.ndim < 2 or id(p) in to_adam]
        groups = [dict(params=matrices, lr=muon_lr, muon=True), dict(params=others, lr=lr, muon=False)]
        super().__init__([g for g in groups if g["params"]], dict(lr=lr, betas=betas, eps=eps, ns_steps=ns_steps))

    @torch.no_grad()
    def step(self, closure=None):
        """One step for every parameter that has a gradient. ``closure`` is not supported."""
        if closure is not None:
            raise ValueError("Muon.step takes no closure.")
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if group["muon"]:
                    if not state:
                        state["momentum"] = torch.zeros_like(p)
                    momentum = state["momentum"].mul_(beta1).add_(p.grad)
                    look_ahead = p.grad.add(momentum, alpha=beta1)  # Nesterov
                    rows = look_ahead.reshape(len(p), -1)  # one row per output unit or map
                    scale = math.sqrt(max(1.0, rows.shape[0] / rows.shape[1]))
                    p.add_(orthogonalize(rows, group["ns_steps"]).view_as(p).to(p.dtype), alpha=-group["lr"] * scale)
                else:  # Adam, with bias correction
                    if not state:
                        state.update(step=0, mean=torch.zeros_like(p), square=torch.zeros_like(p))
                    state["step"] += 1
                    state["mean"].mul_(beta1).add_(p.grad, alpha=1 - beta1)
                    state["square"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                    mean = state["mean"] / (1 - beta1 ** state["step"])
                    root = (state["square"] / (1 - beta2 ** state["step"])).sqrt_().add_(group["eps"])
                    p.addcdiv_(mean, root, value=-group["lr"])
        return None
