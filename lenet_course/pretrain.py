"""Train the course's pretrained LeNet-5 and write its weights and metadata.

    python -m lenet_course.pretrain                  # the article's LeNet5 -> lenet5.pt
    python -m lenet_course.pretrain --model classic  # the 1998 LeNet5Classic -> lenet5_classic.pt

writes ``lenet_course/pretrained/NAME.pt`` (a state dict of tensors) and ``NAME.json``
(validation and test accuracy, parameter count, SHA-256 of the weights, the recipe, the
command, versions, normalisation). The model trains on the training split; the recipe was
chosen on the validation split; the test split is scored once, at the end. Chapters load the
result with :func:`lenet_course.checkpoints.load_pretrained` instead of training.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from dataclasses import asdict, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from .checkpoints import PRETRAINED_DIR, load_state, save_pretrained
from .classic import LeNet5Classic, map_loss
from .data import MNIST_MEAN, MNIST_STD, VAL_SIZE, load_mnist
from .models import LeNet5
from .shapes import count_parameters
from .train import TrainConfig, classic_config, evaluate, fit, set_seed


def main(argv: list[str] | None = None) -> dict:
    """Train a model with its course recipe on full MNIST, check it, and save it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["lenet5", "classic"], default="lenet5",
                        help="lenet5: the article's network; classic: the 1998 paper's")
    parser.add_argument("--epochs", type=int, help="passes over the training set (default: the recipe's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=PRETRAINED_DIR, help="folder for the .pt and .json files")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    if args.model == "classic":
        name, model, loss_fn, config = "lenet5_classic", LeNet5Classic, map_loss, classic_config(seed=args.seed)
    else:
        name, model, loss_fn, config = "lenet5", LeNet5, F.cross_entropy, TrainConfig(seed=args.seed)
    if args.epochs is not None:
        config = replace(config, num_epochs=args.epochs)
    set_seed(config.seed)
    data = load_mnist()
    model_class, model = model, model()
    history = fit(model, data, config, device="cpu", loss_fn=loss_fn)
    val = evaluate(model, data.X_val, data.y_val, loss_fn=loss_fn)
    result = evaluate(model, data.X_test, data.y_test, loss_fn=loss_fn)  # scored once
    command = " ".join(["python -m lenet_course.pretrain", *(sys.argv[1:] if argv is None else argv)])
    meta = save_pretrained(model, name, {
        "val_accuracy": val.accuracy,
        "val_size": VAL_SIZE,
        "train_size": len(data.X_train),
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
        "history": {"val_acc": history.val_acc, "epoch_time_s": [round(t, 2) for t in history.epoch_time_s]},
    }, args.out)
    # Read the file back through the checked loader before declaring success.
    load_state(model_class(), args.out / meta["weights"], expected_sha256=meta["sha256"])
    print(json.dumps(meta, indent=2))
    return meta


if __name__ == "__main__":
    main()
