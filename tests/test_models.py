import json
import shutil

import pytest
import torch

from lenet_course import models
from lenet_course.models import CheckpointError, LeNet5, load_pretrained, load_state
from lenet_course.shapes import conv_parameters, count_parameters, linear_parameters


def test_lenet5_has_the_article_layers_and_parameter_count():
    model = LeNet5()
    assert [n for n, _ in model.named_children()] == ["c1", "s2", "c3", "s4", "f5", "f6", "output"]
    expected = (conv_parameters(1, 6, 5) + conv_parameters(6, 16, 5) + linear_parameters(16 * 5 * 5, 120)
                + linear_parameters(120, 84) + linear_parameters(84, 10))
    assert count_parameters(model) == expected == 61_706
    assert models.FLAT_FEATURES == 400


def test_forward_shapes():
    model = LeNet5()
    x = torch.randn(5, 1, 32, 32)
    assert model.features(x).shape == (5, 400)
    assert model(x).shape == (5, 10)


def test_pool_then_relu_equals_relu_then_pool():
    model = LeNet5()
    x = torch.randn(8, 1, 32, 32)
    a = model.s2(torch.relu(model.c1(x)))
    b = torch.relu(model.s2(model.c1(x)))
    assert torch.equal(a, b)


@pytest.mark.parametrize("x,message", [
    (torch.zeros(2, 1, 28, 28), "pad 28x28 MNIST digits to 32x32"),
    (torch.zeros(2, 3, 32, 32), "1 channel"),
    (torch.zeros(1, 32, 32), "unsqueeze\\(0\\)"),
    (torch.zeros(32, 32), "x\\[None, None\\]"),
    (torch.zeros(4, 32, 32), "unsqueeze\\(1\\)"),
])
def test_wrong_shapes_get_a_helpful_error(x, message):
    with pytest.raises(ValueError, match=message):
        LeNet5()(x)


def test_integer_pixels_are_rejected_with_the_fix():
    with pytest.raises(TypeError, match="prepare_images"):
        LeNet5()(torch.zeros(2, 1, 32, 32, dtype=torch.uint8))
    with pytest.raises(TypeError, match="torch.Tensor"):
        LeNet5()([[0.0] * 32] * 32)


def test_pretrained_loads_and_matches_its_metadata():
    meta = models.pretrained_metadata("lenet5")
    model = load_pretrained("lenet5")
    assert not model.training
    assert meta["parameters"] == count_parameters(model)
    assert meta["sha256"] == models.sha256_file(models.PRETRAINED_DIR / meta["weights"])
    assert meta["test_accuracy"] >= 0.992
    assert meta["config"]["num_epochs"] >= 1 and meta["command"].startswith("python -m lenet_course.pretrain")


def test_a_checkpoint_with_the_wrong_hash_is_refused(tmp_path):
    path = tmp_path / "w.pt"
    torch.save(LeNet5().state_dict(), path)
    with pytest.raises(CheckpointError, match="SHA-256 expected"):
        load_state(LeNet5(), path, expected_sha256="0" * 64)


def test_a_checkpoint_with_wrong_shapes_is_refused(tmp_path):
    state = LeNet5().state_dict()
    state["f5.weight"] = torch.zeros(120, 256)
    del state["output.bias"]
    path = tmp_path / "w.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointError) as info:
        load_state(LeNet5(), path)
    assert "f5.weight: checkpoint has (120, 256), model has (120, 400)" in str(info.value)
    assert "missing output.bias" in str(info.value)


def test_a_truncated_checkpoint_is_refused(tmp_path):
    path = tmp_path / "w.pt"
    torch.save(LeNet5().state_dict(), path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="Could not read"):
        load_state(LeNet5(), path)


def test_tampered_shipped_weights_are_refused(tmp_path, monkeypatch):
    folder = tmp_path / "pretrained"
    shutil.copytree(models.PRETRAINED_DIR, folder)
    weights = folder / json.loads((folder / "lenet5.json").read_text())["weights"]
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    weights.write_bytes(bytes(data))
    monkeypatch.setattr(models, "PRETRAINED_DIR", folder)
    with pytest.raises(CheckpointError, match="corrupted"):
        load_pretrained("lenet5")


def test_flatten_features_follows_the_input_size():
    assert models.flatten_features(32) == 400
    assert models.flatten_features(28) == 256
    model = LeNet5()
    assert model.f5.in_features == models.flatten_features()
