"""LeNet-5 as the article builds it, plus the loader for the course's pretrained weights.

The layer sizes below are computed with the arithmetic of :mod:`lenet_course.shapes`, so the
400 of the flatten is derived, not typed in. Introduced in the PyTorch implementation chapter.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import nn

from .shapes import conv_output_size, pool_output_size

INPUT_SIZE = 32  # the paper's 32x32 input field
KERNEL_SIZE = 5  # C1 and C3 both use 5x5 kernels
C1_MAPS, C3_MAPS = 6, 16
C1_SIZE = conv_output_size(INPUT_SIZE, KERNEL_SIZE)  # 28
S2_SIZE = pool_output_size(C1_SIZE, 2)  # 14
C3_SIZE = conv_output_size(S2_SIZE, KERNEL_SIZE)  # 10
S4_SIZE = pool_output_size(C3_SIZE, 2)  # 5


def flatten_features(input_size: int = INPUT_SIZE) -> int:
    """Length of the flattened S4 output for a square input of ``input_size`` pixels (400 for 32)."""
    side = pool_output_size(conv_output_size(input_size, KERNEL_SIZE), 2)  # C1, S2
    side = pool_output_size(conv_output_size(side, KERNEL_SIZE), 2)  # C3, S4
    return C3_MAPS * side * side


FLAT_FEATURES = flatten_features(INPUT_SIZE)  # 400
F5_UNITS, F6_UNITS, NUM_CLASSES = 120, 84, 10

PRETRAINED_DIR = Path(__file__).parent / "pretrained"


def check_input(x: object, size: int = INPUT_SIZE, model_name: str = "LeNet5") -> None:
    """Raise a learner-friendly error unless ``x`` is a float tensor of shape (N, 1, size, size)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{model_name} expects a torch.Tensor of shape (N, 1, {size}, {size}), got {type(x).__name__}. "
            "Convert with torch.as_tensor(...) and see lenet_course.data.prepare_images."
        )
    if not torch.is_floating_point(x):
        raise TypeError(
            f"{model_name} expects floating-point pixels (torch.float32), got {x.dtype}. "
            "Raw MNIST bytes are 0..255 integers: convert and normalise them with "
            "lenet_course.data.prepare_images(images), or at least x.float() / 255."
        )
    shape = tuple(x.shape)
    expected = f"(N, 1, {size}, {size})"
    if x.dim() != 4:
        if x.dim() == 3 and shape[0] == 1 and shape[1:] == (size, size):
            fix = "It looks like one image without the batch dimension: use x.unsqueeze(0)."
        elif x.dim() == 2 and shape == (size, size):
            fix = "It looks like one bare image: use x[None, None] to add batch and channel dimensions."
        elif x.dim() == 3 and shape[1:] == (size, size):
            fix = "It looks like a batch without the channel dimension: use x.unsqueeze(1)."
        else:
            fix = "Reshape it to a batch of single-channel images."
        raise ValueError(f"{model_name} expects a 4-D batch {expected}, got shape {shape}. {fix}")
    if shape[1] != 1:
        raise ValueError(
            f"{model_name} expects 1 channel (grayscale digits) in {expected}, got {shape[1]} channels "
            f"(shape {shape}). For RGB images, convert to grayscale first, e.g. x.mean(dim=1, keepdim=True)."
        )
    if shape[2:] != (size, size):
        hint = ""
        if shape[2:] == (28, 28):
            hint = (
                f" MNIST digits are 28x28: pad 28x28 MNIST digits to {size}x{size} with "
                "lenet_course.data.pad_to_32(x) (2 pixels of background on each side), as the paper does."
            )
        raise ValueError(f"{model_name} expects {size}x{size} images {expected}, got shape {shape}.{hint}")


class LeNet5(nn.Module):
    """The article's LeNet-5: two conv/max-pool stages, then three fully connected layers.

    Input: float tensor (N, 1, 32, 32), normalised pixels. Output: (N, 10) class scores
    (logits; apply softmax for probabilities). 61,706 trainable parameters.
    """

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, C1_MAPS, kernel_size=KERNEL_SIZE)  # 1x32x32 -> 6x28x28
        self.s2 = nn.MaxPool2d(kernel_size=2, stride=2)  # 6x28x28 -> 6x14x14
        self.c3 = nn.Conv2d(C1_MAPS, C3_MAPS, kernel_size=KERNEL_SIZE)  # 6x14x14 -> 16x10x10
        self.s4 = nn.MaxPool2d(kernel_size=2, stride=2)  # 16x10x10 -> 16x5x5
        self.f5 = nn.Linear(FLAT_FEATURES, F5_UNITS)  # 400 -> 120
        self.f6 = nn.Linear(F5_UNITS, F6_UNITS)  # 120 -> 84
        self.output = nn.Linear(F6_UNITS, NUM_CLASSES)  # 84 -> 10

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The feature extractor: (N, 1, 32, 32) -> (N, 400) flattened S4 maps."""
        check_input(x)
        # ReLU after pooling gives exactly the article's relu-then-pool (max and ReLU commute)
        # while applying ReLU to 4x fewer values.
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


# --- checkpoints -------------------------------------------------------------------------


class CheckpointError(RuntimeError):
    """A checkpoint file that is missing, corrupted, or does not match the model."""


def sha256_file(path: Path | str) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_state(model: nn.Module, path: Path | str, expected_sha256: str | None = None) -> nn.Module:
    """Load weights from ``path`` into ``model`` safely and strictly, and return the model.

    The file is read with ``torch.load(weights_only=True)`` (no code runs from it). When
    ``expected_sha256`` is given, a file with another hash is refused. Missing, extra or
    differently shaped tensors raise :class:`CheckpointError` naming each mismatch.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}. Train one with `python -m lenet_course.pretrain`.")
    if expected_sha256 is not None:
        found = sha256_file(path)
        if found != expected_sha256:
            raise CheckpointError(
                f"Checkpoint {path} is not the file its metadata describes: SHA-256 expected "
                f"{expected_sha256}, found {found}. The file is corrupted or was replaced; restore it "
                "(git checkout -- lenet_course/pretrained) or retrain with `python -m lenet_course.pretrain`."
            )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle errors, truncated zip files, ...
        raise CheckpointError(f"Could not read checkpoint {path}: {exc}") from exc
    if not isinstance(state, dict):
        raise CheckpointError(f"Checkpoint {path} holds a {type(state).__name__}, not a state dict of tensors.")
    own = model.state_dict()
    problems = [f"missing {k} {tuple(v.shape)}" for k, v in own.items() if k not in state]
    problems += [f"unexpected {k}" for k in state if k not in own]
    problems += [
        f"{k}: checkpoint has {tuple(state[k].shape)}, model has {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if problems:
        raise CheckpointError(
            f"Checkpoint {path} does not match {type(model).__name__}: " + "; ".join(problems)
            + ". Was it saved from a different model class?"
        )
    model.load_state_dict(state)
    return model


def pretrained_metadata(name: str = "lenet5") -> dict:
    """The metadata stored beside a shipped checkpoint (accuracy, hash, command, versions)."""
    path = PRETRAINED_DIR / f"{name}.json"
    if not path.is_file():
        raise CheckpointError(f"No metadata for pretrained model {name!r} at {path}.")
    return json.loads(path.read_text())


def load_pretrained(name: str = "lenet5", device: str | torch.device = "cpu") -> nn.Module:
    """The course's pretrained model, verified against its metadata, in eval mode on ``device``.

    ``name`` is ``"lenet5"`` (the article's network) or ``"lenet5_classic"`` (the 1998 paper's).
    The weights' SHA-256 and every tensor shape are checked before use.
    """
    from .classic import LeNet5Classic  # imported here: classic builds on this module

    meta = pretrained_metadata(name)
    models = {"LeNet5": LeNet5, "LeNet5Classic": LeNet5Classic}
    model = models[meta["model"]]()
    load_state(model, PRETRAINED_DIR / meta["weights"], expected_sha256=meta["sha256"])
    return model.to(device).eval()
