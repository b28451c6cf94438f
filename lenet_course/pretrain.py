"""Train the course's pretrained LeNet-5 and write its weights and metadata.

    python -m lenet_course.pretrain

writes ``lenet_course/pretrained/lenet5.pt`` (a state dict of tensors) and ``lenet5.json``
(test accuracy, parameter count, SHA-256 of the weights, the command, versions, normalisation).
Chapters load it with :func:`lenet_course.models.load_pretrained` instead of training.
"""

from __future__ import annotations

import argparse
import json
import platform
from dataclasses import asdict
from pathlib import Path

import torch

from .data import MNIST_MEAN, MNIST_STD, load_mnist
from .models import PRETRAINED_DIR, LeNet5, load_state, sha256_file
from .shapes import count_parameters
from .train import TrainConfig, evaluate, fit, set_seed


def save_pretrained(model: torch.nn.Module, name: str, metadata: dict, folder: Path = PRETRAINED_DIR) -> dict:
    """Write ``model``'s weights to ``folder/name.pt`` and its metadata (with the file's SHA-256) beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / f"{name}.pt"
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    tmp = weights.with_suffix(".pt.partial")
    torch.save(state, tmp)
    tmp.replace(weights)
    metadata = {**metadata, "weights": weights.name, "sha256": sha256_file(weights)}
    (folder / f"{name}.json").write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def main(argv: list[str] | None = None) -> dict:
    """Train LeNet5 with the course recipe on full MNIST, check it, and save it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    defaults = TrainConfig()
    parser.add_argument("--epochs", type=int, default=defaults.num_epochs, help="passes over the training set")
    parser.add_argument("--max-shift", type=int, default=defaults.max_shift, help="augmentation: random shift in pixels")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--out", type=Path, default=PRETRAINED_DIR, help="folder for lenet5.pt and lenet5.json")
    args = parser.parse_args(argv)

    config = TrainConfig(num_epochs=args.epochs, max_shift=args.max_shift, seed=args.seed)
    set_seed(config.seed)
    data = load_mnist()
    model = LeNet5()
    history = fit(model, data, config, device="cpu")
    result = evaluate(model, data.X_test, data.y_test)
    command = "python -m lenet_course.pretrain" + (" " + " ".join(argv) if argv else "")
    meta = save_pretrained(model, "lenet5", {
        "model": "LeNet5",
        "test_accuracy": result.accuracy,
        "test_correct": result.correct,
        "test_total": result.total,
        "parameters": count_parameters(model),
        "train_time_s": round(history.train_time_s, 1),
        "command": command,
        "config": asdict(config),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "normalisation": {"pad": 2, "scale": "pixels / 255", "mean": MNIST_MEAN, "std": MNIST_STD},
    }, args.out)
    # Read the file back through the checked loader before declaring success.
    load_state(LeNet5(), args.out / meta["weights"], expected_sha256=meta["sha256"])
    print(json.dumps(meta, indent=2))
    return meta


if __name__ == "__main__":
    main()
