"""Benchmark: the common tutorial pipeline against the course's, training the same LeNet-5.

    python -m lenet_course.bench            # full run (a few minutes on 2 CPU cores)
    python -m lenet_course.bench --quick    # smoke run on a small subset
    python -m lenet_course.bench --device cuda

(a) **tutorial**: ``torchvision.datasets.MNIST`` with per-sample ``Pad(2)``, ``ToTensor``,
``Normalize`` transforms, a ``DataLoader`` with batch 64, Adam at 1e-3, run until 99.0% test
accuracy (or ``--tutorial-epochs``). (b) **course**: :func:`lenet_course.train.fit` with
whole in-memory tensors and the fast recipe below. Both evaluate on the test set after every
epoch; evaluation time is not counted as training time. Each pipeline runs in its own
process so that its peak memory is its own. The last line printed is machine-readable.
"""

from __future__ import annotations

import argparse
import atexit
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Subset

try:
    import resource  # POSIX only: peak memory of this process
except ImportError:  # Windows: psutil reads the peak working set instead
    resource = None

from .data import MNIST_FILES, fetch_mnist, load_mnist
from .inputs import MNIST_MEAN, MNIST_STD
from .models import LeNet5
from .train import (
    TrainConfig,
    bf16_supported,
    choose_device,
    fast_config,
    fit,
)

TARGET = 0.99  # the test accuracy whose time-to-reach is compared
QUICK_TRAIN_SIZE = 2_000  # --quick: images per epoch
QUICK_TEST_SIZE = 1_000


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return _peak_rss_mb()


def _peak_rss_mb(platform_name: str = sys.platform) -> float:
    """This process's peak resident memory in MiB, on Linux, macOS and Windows."""
    if resource is None:
        import psutil  # deferred: only Windows lacks `resource`

        return psutil.Process().memory_info().peak_wset / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if platform_name == "darwin" else peak / 1024  # macOS: bytes; Linux: KiB


def tutorial_datasets():
    """torchvision's MNIST train and test sets with the tutorial's per-sample transforms.

    They read the course's verified files (linked into a temporary folder in torchvision's
    layout), so nothing is downloaded.
    """
    from torchvision import datasets, transforms  # deferred: only the tutorial needs it

    source = fetch_mnist()
    root = Path(tempfile.mkdtemp(prefix="lenet-tutorial-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)  # links (or copies), removed at exit
    (root / "MNIST" / "raw").mkdir(parents=True)
    for name in MNIST_FILES:
        try:
            os.symlink(source / name, root / "MNIST" / "raw" / name)
        except OSError:  # Windows without the right to make links: copy instead
            shutil.copyfile(source / name, root / "MNIST" / "raw" / name)
    transform = transforms.Compose([transforms.Pad(2), transforms.ToTensor(),
                                    transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    return (datasets.MNIST(str(root), train=True, transform=transform),
            datasets.MNIST(str(root), train=False, transform=transform))


def run_tutorial(device: torch.device, max_epochs: int, quick: bool, train_size: int | None = None,
                 test_size: int | None = None) -> dict:
    """Pipeline (a): per-sample transforms through a DataLoader, as most tutorials write it.

    Stops at the first epoch that reaches 99.0% test accuracy, or after ``max_epochs``.
    ``quick`` (or ``train_size`` / ``test_size``) uses the first images only.
    """
    train_set, test_set = tutorial_datasets()
    if quick:
        train_size, test_size = QUICK_TRAIN_SIZE, QUICK_TEST_SIZE
    if train_size is not None:
        train_set = Subset(train_set, range(train_size))
    if test_size is not None:
        test_set = Subset(test_set, range(test_size))
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)

    torch.manual_seed(0)
    model = LeNet5().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    epoch_times, accuracies = [], []
    for _ in range(max_epochs):
        model.train()
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for images, labels in train_loader:
            images, labels = images.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        epoch_times.append(time.perf_counter() - start)
        model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in test_loader:
                correct += int((model(images.to(device)).argmax(1) == labels.to(device)).sum())
        accuracies.append(correct / len(test_set))
        if accuracies[-1] >= TARGET:
            break
    return {"epoch_times": epoch_times, "accuracies": accuracies, "images": len(train_set),
            "config": "torchvision MNIST + Pad/ToTensor/Normalize per sample, DataLoader batch 64, Adam 1e-3"}


def run_course(device: torch.device, num_epochs: int, quick: bool) -> dict:
    """Pipeline (b): the course's fit() on whole tensors resident on the device."""
    # The speedrun convention: train on all 60,000 images (no validation split) and time the
    # run to a test accuracy. The recipe itself was chosen on the validation split.
    data = load_mnist(train_size=QUICK_TRAIN_SIZE if quick else None,
                      test_size=QUICK_TEST_SIZE if quick else None, val_size=0)
    config = fast_config(device, num_epochs)
    history = fit(LeNet5, data, config, device=device, progress=False, track_test=True)
    return {"epoch_times": history.epoch_time_s, "accuracies": history.test_acc, "images": len(data.X_train),
            "config": json.dumps(asdict(config))}


class ReluThenPool(torch.nn.Module):
    """The article's order inside each conv stage, ReLU before max pooling; the same weights as a LeNet5."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = self.model
        x = m.s2(torch.relu(m.c1(x)))  # (N, 6, 14, 14)
        x = m.s4(torch.relu(m.c3(x)))  # (N, 16, 5, 5)
        return m.classifier(torch.flatten(x, 1))  # (N, 10)


def ablation(train_size: int = 10_000, device: str | torch.device = "cpu") -> list[dict]:
    """Seconds per 60,000-image epoch for each speed step, added one at a time, measured on ``train_size`` images.

    Each row: ``step``, ``epoch_s`` (scaled from ``train_size`` images to a full epoch) and
    ``images_per_s``. Every step trains the same network from the same start for one pass.
    """
    device = choose_device(str(device))
    data = load_mnist(train_size=train_size, test_size=0, val_size=0)  # timing only
    scale = 60_000 / train_size
    rows = []
    tutorial = run_tutorial(device, 1, False, train_size=train_size, test_size=100)
    rows.append({"step": "tutorial: per-sample transforms, DataLoader, batch 64",
                 "epoch_s": tutorial["epoch_times"][0] * scale})
    steps = [
        ("whole in-memory tensors, batch 64", dict(batch_size=64, channels_last=False), True),
        ("+ batch 256", dict(batch_size=256, channels_last=False), True),
        ("+ channels-last memory layout", dict(batch_size=256, channels_last=True), True),
        ("+ ReLU after pooling (4x fewer ReLUs)", dict(batch_size=256, channels_last=True), False),
    ]
    if bf16_supported(device):
        steps.append(("+ bfloat16 autocast", dict(batch_size=256, channels_last=True, bf16=True), False))
    for name, settings, relu_first in steps:
        torch.manual_seed(0)
        model = LeNet5()
        trained = ReluThenPool(model) if relu_first else model
        config = TrainConfig(num_epochs=1, max_shift=0, schedule="constant", lr=1e-3, **settings)
        fit(trained, data, config, device=device, progress=False)  # warm-up pass: first-call costs
        history = fit(trained, data, config, device=device, progress=False)
        rows.append({"step": name, "epoch_s": history.epoch_time_s[0] * scale})
    for row in rows:
        row["images_per_s"] = 60_000 / row["epoch_s"]
    return rows


def profile_phases(pipeline: str, n_batches: int = 100, batch_size: int = 64,
                   device: str | torch.device = "cpu") -> dict:
    """Seconds per image spent in each phase of a training step: data, forward, backward, optimiser.

    ``pipeline`` is ``"tutorial"`` (per-sample transforms through a DataLoader) or ``"course"``
    (slices of an in-memory tensor). Measured over ``n_batches`` steps after two warm-up steps.
    """
    device = choose_device(str(device))
    if pipeline == "tutorial":
        batches = iter(DataLoader(tutorial_datasets()[0], batch_size=batch_size, shuffle=True))
    elif pipeline == "course":
        data = load_mnist(train_size=(n_batches + 2) * batch_size, test_size=0, val_size=0)
        X, y = data.X_train.to(device), data.y_train.to(device)
        order = torch.randperm(len(X), device=device)
        batches = ((X[order[i:i + batch_size]], y[order[i:i + batch_size]]) for i in range(0, len(X), batch_size))
    else:
        raise ValueError(f"pipeline must be 'tutorial' or 'course', got {pipeline!r}.")
    torch.manual_seed(0)
    model = LeNet5().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    totals = dict.fromkeys(("data", "forward", "backward", "optimiser"), 0.0)

    def tick() -> float:
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter()

    for step in range(n_batches + 2):
        t0 = tick()
        images, labels = next(batches)
        images, labels = images.to(device), labels.to(device)
        t1 = tick()
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        t2 = tick()
        optimizer.zero_grad()
        loss.backward()
        t3 = tick()
        optimizer.step()
        t4 = tick()
        if step >= 2:  # the first steps pay one-off setup costs
            for phase, seconds in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                totals[phase] += seconds
    return {phase: seconds / (n_batches * batch_size) for phase, seconds in totals.items()}


def format_ablation(rows: list[dict]) -> str:
    """The ablation as a table, each step's speed-up over the previous one and over the tutorial."""
    lines = [f"{'step':<56}{'s/epoch':>9}{'images/s':>10}{'vs prev':>9}{'vs tutorial':>13}"]
    for i, row in enumerate(rows):
        prev = rows[i - 1]["epoch_s"] / row["epoch_s"] if i else 1.0
        lines.append(f"{row['step']:<56}{row['epoch_s']:>9.2f}{row['images_per_s']:>10,.0f}{prev:>8.2f}x"
                     f"{rows[0]['epoch_s'] / row['epoch_s']:>12.1f}x")
    return "\n".join(lines)


def _worker(name: str, device: str, epochs: int, quick: bool) -> None:
    device = choose_device(device)
    result = (run_tutorial if name == "tutorial" else run_course)(device, epochs, quick)
    result["peak_memory_mb"] = _peak_memory_mb(device)
    print("RESULT " + json.dumps(result))


def _run_in_subprocess(name: str, device: str, epochs: int, quick: bool) -> dict:
    command = [sys.executable, "-m", "lenet_course.bench", "--worker", name, "--device", device,
               "--epochs", str(epochs)] + (["--quick"] if quick else [])
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the {name} pipeline failed:\n{done.stderr[-2000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def summarise(result: dict) -> dict:
    """Seconds per epoch (mean), images per second, time to the target, final accuracy."""
    times, accuracies = result["epoch_times"], result["accuracies"]
    epoch_s = sum(times) / len(times)
    elapsed, time_to_target = 0.0, math.nan
    for seconds, accuracy in zip(times, accuracies):
        elapsed += seconds
        if accuracy >= TARGET:
            time_to_target = elapsed
            break
    return {"epoch_s": epoch_s, "images_per_s": result["images"] / epoch_s, "time_to_target_s": time_to_target,
            "final_accuracy": accuracies[-1], "epochs": len(times), "peak_memory_mb": result["peak_memory_mb"]}


def format_report(tutorial: dict, course: dict) -> str:
    """The side-by-side table and the machine-readable last line."""
    def ratio(a: float, b: float) -> float:
        return a / b if b and not (math.isnan(a) or math.isnan(b)) else math.nan

    def seconds(v: float) -> str:
        return "not reached" if math.isnan(v) else f"{v:.1f} s"

    def times(v: float, word: str = "") -> str:
        return "n/a" if math.isnan(v) else f"{v:.1f}x{word}"

    epoch_speedup = ratio(tutorial["epoch_s"], course["epoch_s"])
    t99_speedup = ratio(tutorial["time_to_target_s"], course["time_to_target_s"])
    rows = [
        ("seconds per epoch", f"{tutorial['epoch_s']:.2f}", f"{course['epoch_s']:.2f}",
         times(epoch_speedup, " faster")),
        ("images per second", f"{tutorial['images_per_s']:,.0f}", f"{course['images_per_s']:,.0f}",
         times(epoch_speedup)),
        (f"time to {TARGET:.1%} test accuracy", seconds(tutorial["time_to_target_s"]),
         seconds(course["time_to_target_s"]),
         times(t99_speedup, " faster")),
        ("final test accuracy", f"{tutorial['final_accuracy']:.2%}", f"{course['final_accuracy']:.2%}", ""),
        ("epochs run", str(tutorial["epochs"]), str(course["epochs"]), ""),
        ("peak memory (MB)", f"{tutorial['peak_memory_mb']:,.0f}", f"{course['peak_memory_mb']:,.0f}",
         f"{ratio(course['peak_memory_mb'], tutorial['peak_memory_mb']):.2f}x as much"),
    ]
    lines = [f"{'':<28}{'tutorial':>14}{'course':>14}{'ratio':>18}"]
    lines += [f"{a:<28}{b:>14}{c:>14}{d:>18}" for a, b, c, d in rows]
    lines.append(
        f"time_to_99_speedup={t99_speedup:.2f} epoch_speedup={epoch_speedup:.2f} "
        f"course_epoch_s={course['epoch_s']:.3f} "
        f"tutorial_epoch_s={tutorial['epoch_s']:.3f} course_time_to_99_s={course['time_to_target_s']:.3f} "
        f"tutorial_time_to_99_s={tutorial['time_to_target_s']:.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run both pipelines and print the comparison; its last line is machine-readable."""
    parser = argparse.ArgumentParser(description="Tutorial vs course training pipeline for LeNet-5.")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_TRAIN_SIZE:,} images, 1 epoch each")
    parser.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    parser.add_argument("--tutorial-epochs", type=int, default=15, help="most epochs for the tutorial pipeline")
    parser.add_argument("--course-epochs", type=int, default=3, help="epochs of the course's one-cycle recipe")
    parser.add_argument("--ablation", action="store_true", help="measure what each speed step buys, one at a time")
    parser.add_argument("--worker", choices=["tutorial", "course"], help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    device = str(choose_device(args.device))
    if args.worker:
        _worker(args.worker, device, args.epochs, args.quick)
        return 0
    if args.ablation:
        print(format_ablation(ablation(QUICK_TRAIN_SIZE if args.quick else 10_000, device)))
        return 0
    tutorial_epochs, course_epochs = (1, 1) if args.quick else (args.tutorial_epochs, args.course_epochs)
    print(f"LeNet-5 training benchmark: device {device}, {torch.get_num_threads()} CPU threads, "
          f"torch {torch.__version__}, "
          f"{platform.processor() or platform.machine()}" + (" (quick smoke run)" if args.quick else ""))
    print(f"course recipe: {asdict(fast_config(torch.device(device), course_epochs))}", flush=True)
    tutorial = summarise(_run_in_subprocess("tutorial", device, tutorial_epochs, args.quick))
    course = summarise(_run_in_subprocess("course", device, course_epochs, args.quick))
    report = format_report(tutorial, course)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
