"""Checkpoints: saving weights with their metadata, and loading them only once verified.

A shipped checkpoint is two files in ``lenet_course/pretrained/``: ``NAME.pt`` (a state dict of
tensors) and ``NAME.json`` (the model class, accuracy, recipe, versions and the SHA-256 of the
``.pt`` file). :func:`load_pretrained` refuses a file whose hash or tensor shapes do not
match. This module sits above both model modules, so it can build either. Introduced in the
C1 chapter; the PyTorch implementation chapter explains it.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from .classic import LeNet5Classic
from .data import sha256_file
from .models import LeNet5

PRETRAINED_DIR = Path(__file__).parent / "pretrained"
MODEL_CLASSES: dict[str, type[nn.Module]] = {"LeNet5": LeNet5, "LeNet5Classic": LeNet5Classic}


class CheckpointError(RuntimeError):
    """A checkpoint file that is missing, corrupted, or does not match the model."""


def load_state(model: nn.Module, path: Path | str,
               expected_sha256: str | None = None) -> nn.Module:
    """Load weights from ``path`` into ``model`` safely and strictly, and return the model.

    The file is read with ``torch.load(weights_only=True)`` (no code runs from it). When
    ``expected_sha256`` is given, a file with another hash is refused. Missing, extra or
    differently shaped tensors raise :class:`CheckpointError` naming each mismatch.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"No checkpoint at {path}. Train one with `python -m lenet_course.pretrain`.")
    if expected_sha256 is not None:
        found = sha256_file(path)
        if found != expected_sha256:
            raise CheckpointError(
                f"Checkpoint {path} is not the file its metadata describes: SHA-256 expected "
                f"{expected_sha256}, found {found}. The file is corrupted or was replaced; "
                "restore it (git checkout -- lenet_course/pretrained) or retrain with "
                "`python -m lenet_course.pretrain`."
            )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle errors, truncated zip files, ...
        raise CheckpointError(f"Could not read checkpoint {path}: {exc}") from exc
    if not isinstance(state, dict):
        raise CheckpointError(
            f"Checkpoint {path} holds a {type(state).__name__}, not a state dict of tensors.")
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


def save_pretrained(model: nn.Module, name: str, metadata: dict,
                    folder: Path = PRETRAINED_DIR) -> dict:
    """Write ``model``'s weights to ``folder/name.pt`` and its metadata beside them.

    The metadata gains the weights' file name and SHA-256; it is returned as written. The
    weights go to a temporary name first, so an interrupted save leaves no half file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{name}.pt"
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = weights.with_suffix(".pt.partial")
    torch.save(state, tmp)
    tmp.replace(weights)
    metadata = {"model": type(model).__name__, **metadata, "weights": weights.name,
                "sha256": sha256_file(weights)}
    (folder / f"{name}.json").write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def pretrained_metadata(name: str = "lenet5", folder: Path | None = None) -> dict:
    """The metadata stored beside a shipped checkpoint (accuracy, hash, recipe, versions)."""
    path = (folder or PRETRAINED_DIR) / f"{name}.json"
    if not path.is_file():
        raise CheckpointError(f"No metadata for pretrained model {name!r} at {path}.")
    return json.loads(path.read_text())


def load_pretrained(name: str = "lenet5", device: str | torch.device = "cpu",
                    folder: Path | None = None) -> nn.Module:
    """The course's pretrained model, verified against its metadata, in eval mode on ``device``.

    ``name`` is ``"lenet5"`` (the article's network) or ``"lenet5_classic"`` (the 1998
    paper's). The weights' SHA-256 and every tensor shape are checked before use.
    """
    folder = folder or PRETRAINED_DIR
    meta = pretrained_metadata(name, folder)
    if meta.get("model") not in MODEL_CLASSES:
        raise CheckpointError(
            f"{name}.json names model {meta.get('model')!r}; expected one of "
            f"{sorted(MODEL_CLASSES)}.")
    model = MODEL_CLASSES[meta["model"]]()
    load_state(model, folder / meta["weights"], expected_sha256=meta["sha256"])
    return model.to(device).eval()
