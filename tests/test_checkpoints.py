import json
import shutil

import pytest
import torch

from lenet_course import checkpoints
from lenet_course.augment import distort
from lenet_course.checkpoints import (
    CheckpointError,
    load_pretrained,
    load_state,
    pretrained_metadata,
    save_pretrained,
)
from lenet_course.classic import LeNet5Classic, map_loss
from lenet_course.data import sha256_file
from lenet_course.models import LeNet5
from lenet_course.shapes import count_parameters
from lenet_course.train import evaluate

TOLERANCE = 2  # digits of 10,000 (or 5,000) by which a re-evaluation may differ from the metadata


def test_pretrained_loads_and_matches_its_metadata():
    meta = pretrained_metadata("lenet5")
    model = load_pretrained("lenet5")
    assert not model.training
    assert meta["model"] == "LeNet5" and meta["parameters"] == count_parameters(model)
    assert meta["sha256"] == sha256_file(checkpoints.PRETRAINED_DIR / meta["weights"])
    assert meta["command"].startswith("python -m lenet_course.pretrain")
    assert meta["train_size"] + meta["val_size"] == 60_000


@pytest.mark.parametrize("name,loss_fn", [("lenet5", torch.nn.functional.cross_entropy),
                                          ("lenet5_classic", map_loss)])
def test_shipped_weights_score_what_their_metadata_says(mnist, name, loss_fn):
    """Evaluate the weights themselves on the 10,000 test and 5,000 validation images."""
    meta = pretrained_metadata(name)
    model = load_pretrained(name)
    test = evaluate(model, mnist.X_test, mnist.y_test, loss_fn=loss_fn)
    val = evaluate(model, mnist.X_val, mnist.y_val, loss_fn=loss_fn)
    # Another CPU, a GPU or another torch in range sums in another order: a digit or two on the
    # edge of a decision may flip, so the metadata's counts hold to within TOLERANCE digits.
    assert test.total == 10_000 and abs(test.correct - meta["test_correct"]) <= TOLERANCE
    assert abs(test.accuracy - meta["test_accuracy"]) * test.total <= TOLERANCE + 1e-6
    assert abs(val.accuracy - meta["val_accuracy"]) * val.total <= TOLERANCE + 1e-6
    assert test.accuracy >= (0.993 if name == "lenet5" else 0.99)


def test_the_shipped_lenet5_survives_real_handwriting(mnist):
    """Trained on distorted digits: at least 99.3% on the test set as it is, and at least 95%
    with every test digit moved 3 pixels right and 3 down (the metadata records both)."""
    meta = pretrained_metadata("lenet5")
    model = load_pretrained("lenet5")
    shifted = evaluate(model, distort(mnist.X_test, dx=3, dy=3), mnist.y_test)
    assert meta["regime"] == "distorted"
    assert abs(shifted.accuracy - meta["test_accuracy_shifted_3_3"]) * shifted.total <= TOLERANCE + 1e-6
    assert meta["test_accuracy"] >= 0.993 and shifted.accuracy >= 0.95


def test_the_shipped_classic_network_is_the_better_matched_regime():
    meta = pretrained_metadata("lenet5_classic")
    regimes = meta["regimes"]
    assert set(regimes) == {"undistorted", "distorted"} and meta["regime"] in regimes
    gap = {r: abs(1 - v["test_accuracy"] - v["paper_test_error"]) for r, v in regimes.items()}
    assert meta["regime"] == min(gap, key=gap.get)
    assert regimes[meta["regime"]]["test_accuracy"] == meta["test_accuracy"]


def test_save_then_load_round_trips(tmp_path):
    model = LeNet5Classic()
    meta = save_pretrained(model, "mine", {"note": "test"}, folder=tmp_path)
    assert meta["model"] == "LeNet5Classic" and meta["weights"] == "mine.pt"
    assert json.loads((tmp_path / "mine.json").read_text()) == meta
    loaded = load_pretrained("mine", folder=tmp_path)
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded(x), model.eval()(x))
    assert not list(tmp_path.glob("*.partial"))


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


def test_a_checkpoint_of_the_other_model_is_refused(tmp_path):
    path = tmp_path / "w.pt"
    torch.save(LeNet5Classic().state_dict(), path)
    with pytest.raises(CheckpointError, match="different model class"):
        load_state(LeNet5(), path)


def test_a_truncated_checkpoint_is_refused(tmp_path):
    path = tmp_path / "w.pt"
    torch.save(LeNet5().state_dict(), path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="Could not read"):
        load_state(LeNet5(), path)


def test_tampered_shipped_weights_are_refused(tmp_path):
    folder = tmp_path / "pretrained"
    shutil.copytree(checkpoints.PRETRAINED_DIR, folder)
    weights = folder / json.loads((folder / "lenet5.json").read_text())["weights"]
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupted"):
        load_pretrained("lenet5", folder=folder)


def test_metadata_naming_an_unknown_model_is_refused(tmp_path):
    save_pretrained(LeNet5(), "odd", {}, folder=tmp_path)
    meta = json.loads((tmp_path / "odd.json").read_text())
    meta["model"] = "ResNet50"
    (tmp_path / "odd.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="ResNet50"):
        load_pretrained("odd", folder=tmp_path)
