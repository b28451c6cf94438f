"""Training and evaluation: seeding, device choice, the recipes, ``fit`` and ``evaluate``.

Training feeds whole in-memory tensors: each epoch shuffles the indices once and slices
mini-batches out of the (N, 1, 32, 32) tensor already on the device, instead of building
every image again through per-sample transforms. ``fit`` measures the validation split after
every epoch; the test split is left for one final score. The recipes (:class:`TrainConfig`'s
defaults, :func:`fast_config`, :func:`adam_config`, :func:`distorted_config`,
:func:`classic_config`) live here too. Introduced in the training chapter ("Training LeNet-5
step by step"), which writes the same loop by hand; the "Training LeNet-5 fast" chapter
explains each speed setting.
"""

from __future__ import annotations

import contextlib
import functools
import math
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.profiler import record_function
from tqdm import tqdm

from .augment import Distortion, random_affine, random_shift
from .data import MNIST
from .kernels import faster_pooling
from .optim import Muon


def set_seed(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) so a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def choose_device(prefer: str | None = None) -> torch.device:
    """``prefer`` if given, else CUDA if available, then Apple's MPS, then the CPU."""
    if prefer is not None:
        device = torch.device(prefer)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("CUDA was requested but torch.cuda.is_available() is False on this machine; use 'cpu'.")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run. The defaults are the course's recipe."""

    num_epochs: float = 8  # passes over the training images (55,000 with the validation split held out)
    batch_size: int = 256  # images per optimiser step
    lr: float = 4e-3  # peak learning rate of Adam (reached after the one-cycle warm-up)
    optimizer: str = "adam"  # "adam", or "muon": Muon for weights, Adam (at lr) for biases
    muon_lr: float = 0.05  # peak learning rate of Muon's weights (optimizer="muon" only)
    muon_ns_steps: int = 5  # Newton-Schulz iterations per Muon step (optimizer="muon" only)
    muon_output: bool = True  # Muon for the output layer's weights too; False: Adam, as for biases
    weight_decay: float = 0.0  # L2 penalty; LeNet-5 is small enough to need none
    schedule: str = "onecycle"  # "onecycle" (warm up, then anneal to ~0) or "constant"
    max_shift: int = 1  # augmentation: shift each image by up to 1 pixel each way (0 = none)
    distortion: Distortion | None = None  # the paper's random affine distortions (None = none)
    channels_last: bool = True  # NHWC memory layout: faster convolutions on CPU (oneDNN)
    bf16: bool = False  # bfloat16 autocast for the forward pass (CPU with AVX-512 BF16, or CUDA)
    fast_pooling: bool = True  # 2x2 max pooling by rows of memory: the same results, faster on CPU
    seed: int = 0  # seeds the weights (when fit builds the model), the shuffling and the augmentation
    eval_batch_size: int = 4096  # images per forward pass when evaluating
    evals_per_epoch: int = 1  # measurements per epoch: 1 (after each epoch) or 2 (each half epoch)
    warmup: float = 0.3  # fraction of the one-cycle spent warming up to the peak rate
    label_smoothing: float = 0.0  # weight of the uniform target mixed into cross-entropy's one-hot one
    batch_ramp: tuple[int, ...] = ()  # batch sizes of the first half epochs; batch_size after them

    def __post_init__(self) -> None:
        if self.max_shift < 0:
            raise ValueError(f"max_shift must be 0 or more, got {self.max_shift}.")
        if self.batch_size < 1 or min(self.batch_ramp, default=1) < 1:
            raise ValueError(f"batch sizes must be at least 1, got {self.batch_size} and {self.batch_ramp}.")
        if self.evals_per_epoch not in (1, 2):
            raise ValueError(f"evals_per_epoch must be 1 or 2, got {self.evals_per_epoch}.")
        evals = self.num_epochs * self.evals_per_epoch
        if self.num_epochs <= 0 or evals != round(evals):
            raise ValueError("num_epochs must be a positive whole number of epochs, or of half epochs "
                             f"with evals_per_epoch=2, got {self.num_epochs}.")
        if self.schedule not in ("onecycle", "constant"):
            raise ValueError(f"schedule must be 'onecycle' or 'constant', got {self.schedule!r}.")
        if self.lr <= 0 or self.muon_lr <= 0:
            raise ValueError(f"lr and muon_lr must be positive, got {self.lr} and {self.muon_lr}.")
        if self.muon_ns_steps < 1:
            raise ValueError(f"muon_ns_steps must be at least 1, got {self.muon_ns_steps}.")
        if self.optimizer not in ("adam", "muon"):
            raise ValueError(f"optimizer must be 'adam' or 'muon', got {self.optimizer!r}.")
        if not 0 < self.warmup < 1 or not 0 <= self.label_smoothing < 1:
            raise ValueError(f"warmup must be in (0, 1) and label_smoothing in [0, 1), got "
                             f"{self.warmup} and {self.label_smoothing}.")

    @property
    def parts_per_epoch(self) -> int:
        """Stretches each epoch is trained in: 2 (halves) when measured or ramped by half epochs, else 1."""
        return 2 if self.evals_per_epoch == 2 or self.batch_ramp else 1

    def batch_size_at(self, part: int) -> int:
        """Batch size of stretch ``part`` (0, 1, ..., counted in ``parts_per_epoch``): the ramp's
        half epochs first, then ``batch_size``."""
        return self.batch_ramp[part] if part < len(self.batch_ramp) else self.batch_size

    def part_bounds(self, n: int, part: int) -> tuple[int, int]:
        """(start, end) in the epoch's shuffled order of ``n`` images that stretch ``part`` trains on.

        A first half ends at the first batch boundary at or after n / 2, so that measuring by
        half epochs groups the images into exactly the batches that measuring by epochs does."""
        if self.parts_per_epoch == 1:
            return 0, n
        first = self.batch_size_at(part - part % 2)  # the batch size of the epoch's first half
        middle = min(n, -(-n // (2 * first)) * first)
        return (0, middle) if part % 2 == 0 else (middle, n)

    def steps_per_part(self, n: int) -> list[int]:
        """Optimiser steps of each stretch of the run (``parts_per_epoch`` per epoch) on ``n`` images."""
        parts = round(self.num_epochs * self.parts_per_epoch)
        return [math.ceil((hi - lo) / self.batch_size_at(part))
                for part, (lo, hi) in enumerate(self.part_bounds(n, part) for part in range(parts))]


def one_cycle(optimizer: torch.optim.Optimizer, total_steps: int,
              warmup: float) -> torch.optim.lr_scheduler.OneCycleLR:
    """PyTorch's one-cycle schedule over ``total_steps``, each parameter group's ``lr`` its peak
    (Muon's group has its own), warming up over the fraction ``warmup`` of the steps but over two
    steps at least: ``OneCycleLR`` divides by the warm-up's length in steps less one, so a
    one-step warm-up fails and a shorter one is skipped (a short run, such as one epoch of 10,000
    images in batches of 512 with a 5% warm-up)."""
    if total_steps < 3:
        raise ValueError(f"a one-cycle schedule needs at least 3 optimiser steps (a warm-up of two and "
                         f"one to anneal); this run has {total_steps}. Train on more images or in smaller "
                         "batches, or use schedule='constant'.")
    peaks = [group["lr"] for group in optimizer.param_groups]
    return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=peaks, total_steps=total_steps,
                                               pct_start=max(warmup, 2 / total_steps))


def fast_config(device: str | torch.device = "cpu", **changes) -> TrainConfig:
    """The recipe chosen on the validation split for time to 99% accuracy (``python -m
    lenet_course.bench --choose``): one epoch; Muon for the weights of C1, C3, F5 and F6 with a
    one-cycle peak of 0.08 and three Newton-Schulz iterations a step; Adam for the biases and the
    output layer with a peak of 0.01; a warm-up of 5% of the run; label smoothing 0.1; batches
    of 512; no augmentation; bfloat16 where the hardware has it. ``changes`` override any field
    (``evals_per_epoch=2`` measures each half epoch, as the benchmark does)."""
    settings = dict(num_epochs=1, batch_size=512, optimizer="muon", muon_lr=0.08, muon_ns_steps=3,
                    muon_output=False, lr=1e-2, warmup=0.05, label_smoothing=0.1, max_shift=0,
                    bf16=bf16_supported(device))
    settings.update(changes)
    return TrainConfig(**settings)


def adam_config(device: str | torch.device = "cpu", **changes) -> TrainConfig:
    """The fastest recipe to 99% with Adam alone, chosen on the validation split the same way
    (the fifth of ``bench.RECIPE_STEPS``): two epochs of one-cycle peaking at 0.01 after a 15%
    warm-up, label smoothing 0.1, batches of 128 for the first half epoch and of 256 after, no
    augmentation, bfloat16 where the hardware has it. The fast-training chapter's starting
    point, before :func:`fast_config` replaces Adam with Muon. ``changes`` override any field."""
    settings = dict(num_epochs=2, batch_size=256, batch_ramp=(128,), lr=1e-2, warmup=0.15,
                    label_smoothing=0.1, max_shift=0, bf16=bf16_supported(device))
    settings.update(changes)
    return TrainConfig(**settings)


def distorted_config(**changes) -> TrainConfig:
    """The recipe of the shipped LeNet-5: the course recipe trained on the paper's random
    distortions (:class:`~lenet_course.augment.Distortion`, every range at 0.75 of its
    reference value) instead of 1-pixel shifts, for 24 epochs; strength and length chosen on the
    validation split by ``python -m lenet_course.pretrain --sweep`` (the distortions chapter).
    ``changes`` override any field."""
    settings = dict(num_epochs=24, max_shift=0, distortion=Distortion().scaled(0.75))
    settings.update(changes)
    return TrainConfig(**settings)


def undistorted_config(**changes) -> TrainConfig:
    """The recipe of ``lenet5_undistorted``, the distortions chapter's baseline: the course
    recipe with no augmentation at all (not even 1-pixel shifts), for 12 epochs, the length
    chosen on the validation split by the same sweep. ``changes`` override any field."""
    settings = dict(num_epochs=12, max_shift=0, distortion=None)
    settings.update(changes)
    return TrainConfig(**settings)


def classic_config(**changes) -> TrainConfig:
    """The course's recipe for the 1998 network: Adam with a one-cycle peak of 0.01, 12
    epochs, random 1-pixel shifts (the paper trained 20 passes with its diagonal
    Levenberg-Marquardt method). ``changes`` override any field."""
    settings = dict(num_epochs=12, lr=1e-2, max_shift=1)
    settings.update(changes)
    return TrainConfig(**settings)


@dataclass
class History:
    """What ``fit`` measured, one entry per epoch. Times are seconds of training only.

    ``val_loss`` / ``val_acc`` are measured on the validation split after every epoch.
    ``test_loss`` / ``test_acc`` stay empty unless ``fit(..., track_test=True)``, which only
    the speed benchmark uses (the speedrun convention of timing to a test accuracy).
    With ``evals_per_epoch`` of 2 (the config's), there is one entry per half epoch instead:
    ``epoch_time_s``, ``train_loss`` and ``train_acc`` then cover that half epoch.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    epoch_time_s: list[float] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    device: str = "cpu"
    model: nn.Module | None = field(default=None, repr=False, compare=False)  # the trained model
    evals_per_epoch: int = 1  # entries per epoch

    @property
    def epochs(self) -> list[float]:
        """The epochs of training done at each entry, for plotting: 1, 2, ... (0.5, 1.0, ... by halves)."""
        n = len(self.train_loss)
        if self.evals_per_epoch == 1:
            return list(range(1, n + 1))
        return [k / self.evals_per_epoch for k in range(1, n + 1)]

    @property
    def train_time_s(self) -> float:
        """Total seconds spent training."""
        return float(sum(self.epoch_time_s))

    def time_to(self, accuracy: float, split: str = "val") -> float | None:
        """Training seconds until ``split`` accuracy first reached ``accuracy``, or None."""
        accuracies = {"val": self.val_acc, "test": self.test_acc}[split]
        elapsed = 0.0
        for seconds, acc in zip(self.epoch_time_s, accuracies):
            elapsed += seconds
            if acc >= accuracy:
                return elapsed
        return None


@dataclass(frozen=True)
class Evaluation:
    """Mean cross-entropy loss and accuracy (a fraction) over ``total`` examples."""

    loss: float
    accuracy: float
    correct: int
    total: int


def bf16_supported(device: str | torch.device) -> bool:
    """True when bfloat16 autocast is fast on ``device``: CUDA with bf16, or a CPU with native
    BF16 (AVX-512 BF16/AMX)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        try:
            return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            return False
    return False


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _autocast(device: torch.device, enabled: bool):
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def _layout(X: torch.Tensor, channels_last: bool) -> torch.Tensor:
    return X.contiguous(memory_format=torch.channels_last) if channels_last else X.contiguous()


@torch.inference_mode()
def predict_logits(model: nn.Module, X: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Logits (N, 10) for images X (N, 1, 32, 32), computed in batches without gradients."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        return torch.cat([model(X[i:i + batch_size].to(device)).float() for i in range(0, len(X), batch_size)])
    finally:
        model.train(was_training)


@torch.inference_mode()
def features_of(model: nn.Module, X: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """``model.features`` of images X (N, 1, 32, 32) in batches without gradients: (N, 400) for LeNet5.

    Computing a frozen feature extractor's output once is the same as training a new head with the
    extractor frozen in the loop, and much faster. Introduced in the innovations chapter.
    """
    device = next(model.parameters()).device
    return torch.cat([model.features(X[i:i + batch_size].to(device)) for i in range(0, len(X), batch_size)])


def predict(model: nn.Module, X: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Predicted classes (N,) for images X (N, 1, 32, 32)."""
    return predict_logits(model, X, batch_size).argmax(dim=1)


def output_layer(model: nn.Module) -> nn.Module:
    """The last layer of ``model`` with parameters of its own (``model.output`` for LeNet5)."""
    layers = [m for m in model.modules() if next(m.parameters(recurse=False), None) is not None]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no layer with parameters.")
    return layers[-1]


def make_optimizer(model: nn.Module, config: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    """The optimiser ``config`` names for ``model``'s parameters, at its peak learning rates:
    Adam (fused into one kernel on CPU and CUDA), or :class:`~lenet_course.optim.Muon` (weights at
    ``muon_lr`` with ``muon_ns_steps`` Newton-Schulz iterations, biases with Adam at ``lr``, and the
    output layer's weights with Adam too unless ``muon_output``; no weight decay)."""
    if config.optimizer == "muon":
        if config.weight_decay:
            raise ValueError("optimizer='muon' has no weight decay; set weight_decay=0.")
        output = [] if config.muon_output else list(output_layer(model).parameters())
        return Muon(model.parameters(), lr=config.lr, muon_lr=config.muon_lr, ns_steps=config.muon_ns_steps,
                    adam_params=output)
    fused = device.type in ("cpu", "cuda")
    return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=fused)


LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int = 4096,
             loss_fn: LossFn = F.cross_entropy) -> Evaluation:
    """Loss (``loss_fn``, cross-entropy by default) and accuracy of ``model`` on images
    X (N, 1, 32, 32), labels y (N,)."""
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} images but y has {len(y)} labels.")
    if len(X) == 0:
        raise ValueError("evaluate needs at least one image; got an empty X.")
    logits = predict_logits(model, X, batch_size)
    y = y.to(logits.device)
    correct = int((logits.argmax(dim=1) == y).sum())
    return Evaluation(float(loss_fn(logits, y)), correct / len(y), correct, len(y))


def _score(model: nn.Module, X: torch.Tensor, y: torch.Tensor, config: TrainConfig,
           loss_fn: LossFn) -> tuple[float, float]:
    """(loss, accuracy) on X, y, or (nan, nan) when the split is empty."""
    if len(X) == 0:
        return float("nan"), float("nan")
    result = evaluate(model, X, y, config.eval_batch_size, loss_fn)
    return result.loss, result.accuracy


def fit(model: nn.Module | Callable[[], nn.Module], data: MNIST, config: TrainConfig = TrainConfig(),
        device: str | torch.device | None = None, progress: bool = True,
        loss_fn: LossFn = F.cross_entropy, track_test: bool = False) -> History:
    """Train ``model`` on ``data.X_train`` with Adam (or Muon: ``config.optimizer``), measuring
    the validation split after every epoch (or every half epoch, with ``config.evals_per_epoch=2``).

    ``model`` is a network, or a function that builds one (``LeNet5``, or
    ``lambda: LeNet5Classic()``): given a function, ``fit`` seeds from ``config.seed`` first,
    so the same config gives the same initial weights, shuffling and augmentation. Given a
    network, its weights are whatever it already holds. Either way the trained network is
    ``history.model``.

    This is the loop of the training chapter (forward, loss, ``zero_grad``, ``backward``,
    ``step``) plus the extras of :class:`TrainConfig`: the one-cycle schedule, random
    shifts, the channels-last layout, bfloat16, label smoothing and a batch-size ramp. An
    epoch is trained in two halves when measured by halves or ramped; how often the run is
    measured never changes what it trains. ``loss_fn(scores, y)`` is the criterion:
    cross-entropy by default; the 1998 network passes :func:`lenet_course.classic.map_loss`.
    ``track_test=True`` also scores the test split at every measurement, for the speed
    benchmark only: choices are made on validation. Each step's data, forward, backward and
    optimiser work is a named region for ``torch.profiler`` (``python -m lenet_course.bench
    --profile``). Returns a :class:`History`; the model ends on ``device`` (default:
    :func:`choose_device`) in eval mode.
    """
    device = choose_device(None if device is None else str(device))
    set_seed(config.seed)
    if not isinstance(model, nn.Module):
        model = model()  # built after seeding: the initial weights follow config.seed
        set_seed(config.seed)  # and the data order does not depend on how the model drew them
    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    X_train = _layout(data.X_train.to(device), config.channels_last)
    y_train = data.y_train.to(device)
    X_val, y_val = _layout(data.X_val.to(device), config.channels_last), data.y_val.to(device)
    if track_test:
        X_test = _layout(data.X_test.to(device), config.channels_last)
        y_test = data.y_test.to(device)

    train_loss_fn = loss_fn
    if config.label_smoothing:
        if loss_fn is not F.cross_entropy:
            raise ValueError("label_smoothing applies to the default cross-entropy loss only.")
        train_loss_fn = functools.partial(F.cross_entropy, label_smoothing=config.label_smoothing)
    optimizer = make_optimizer(model, config, device)
    per_epoch = config.parts_per_epoch  # 2: the epoch is trained in halves
    num_parts = round(config.num_epochs * per_epoch)
    parts_per_eval = per_epoch // config.evals_per_epoch
    bounds = [config.part_bounds(len(X_train), part) for part in range(num_parts)]
    scheduler = None
    if config.schedule == "onecycle":
        scheduler = one_cycle(optimizer, sum(config.steps_per_part(len(X_train))), config.warmup)
    history = History(config=asdict(config), device=str(device), model=model,
                      evals_per_epoch=config.evals_per_epoch)

    # One refresh per measurement, so a saved notebook (or the website) shows one line each.
    bar = tqdm(total=num_parts // parts_per_eval, desc=f"training on {device.type}",
               unit="epoch" if config.evals_per_epoch == 1 else "half epoch",
               file=sys.stdout, disable=not progress, ncols=88, mininterval=0)
    seconds, images = 0.0, 0
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    # the same max pooling, computed by rows of memory where that is faster (lenet_course.kernels)
    pooling = faster_pooling(model) if config.fast_pooling else contextlib.nullcontext()
    with pooling:
        for part in range(num_parts):
            lo, hi = bounds[part]
            batch_size = config.batch_size_at(part)
            model.train()
            _sync(device)
            start = time.perf_counter()
            if part % per_epoch == 0:  # each epoch draws a new order of the training images
                order = torch.randperm(len(X_train), device=device)
            for i in range(lo, hi, batch_size):
                with record_function("data"):
                    idx = order[i:min(i + batch_size, hi)]
                    X, y = X_train[idx], y_train[idx]
                    if config.max_shift:
                        X = _layout(random_shift(X, config.max_shift), config.channels_last)
                    if config.distortion is not None:
                        X = _layout(random_affine(X, config.distortion), config.channels_last)
                with record_function("forward"):
                    with _autocast(device, config.bf16):
                        logits = model(X)
                    loss = train_loss_fn(logits.float(), y)
                with record_function("backward"):
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                with record_function("optimiser"):
                    optimizer.step()
                    if scheduler is not None:
                        scheduler.step()
                loss_sum += loss.detach() * len(y)
                correct += (logits.detach().argmax(dim=1) == y).sum()
            _sync(device)
            seconds += time.perf_counter() - start
            images += hi - lo
            if (part + 1) % parts_per_eval:
                continue  # no measurement in the middle of this epoch
            history.epoch_time_s.append(seconds)
            history.train_loss.append(float(loss_sum) / images)
            history.train_acc.append(int(correct) / images)
            seconds, images = 0.0, 0
            loss_sum.zero_()
            correct.zero_()
            val_loss, val_acc = _score(model, X_val, y_val, config, loss_fn)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
            postfix = dict(loss=f"{history.train_loss[-1]:.4f}", val_acc=f"{val_acc:.2%}")
            if track_test:
                test_loss, test_acc = _score(model, X_test, y_test, config, loss_fn)
                history.test_loss.append(test_loss)
                history.test_acc.append(test_acc)
                postfix["test_acc"] = f"{test_acc:.2%}"
            bar.set_postfix(**postfix, refresh=False)
            bar.update()
    bar.close()
    model.eval()
    return history
