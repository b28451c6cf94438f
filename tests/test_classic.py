import math

import pytest
import torch

from lenet_course import classic
from lenet_course.checkpoints import load_pretrained, pretrained_metadata
from lenet_course.classic import (
    C3_TABLE,
    LeNet5Classic,
    PartialConv2d,
    Subsampling,
    map_loss,
)
from lenet_course.inputs import BACKGROUND, MNIST_MEAN, MNIST_STD
from lenet_course.shapes import count_parameters, layer_counts, trace_shapes


def test_the_paper_counts():
    model = LeNet5Classic()
    per_layer = {name: count_parameters(module) for name, module in model.named_children()}
    assert per_layer == {"c1": 156, "s2": 12, "c3": 1_516, "s4": 32, "c5": 48_120, "f6": 10_164, "output": 0}
    assert count_parameters(model) == 60_000
    counts = layer_counts(model)  # computed from the layers, checked against the paper's table
    assert {k: v["parameters"] for k, v in counts.items()} == per_layer
    assert [counts[k]["connections"] for k in ("c1", "s2", "c3", "s4", "c5", "f6", "output")] == [
        122_304, 5_880, 151_600, 2_000, 48_120, 10_164, 840]
    assert sum(v["connections"] for v in counts.values()) == 340_908


def test_shapes_follow_the_paper():
    rows = trace_shapes(LeNet5Classic(), torch.zeros(2, 1, 32, 32))
    assert [r.output_shape[1:] for r in rows] == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5),
                                                  (120, 1, 1), (84,), (10,)]
    model = LeNet5Classic()
    assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    assert model.f6_state(torch.zeros(2, 1, 32, 32)).shape == (2, 84)


def test_squash_constants():
    assert math.isclose(float(classic.squash(torch.tensor(1.0))), 1.0, rel_tol=1e-4)
    assert math.isclose(float(classic.squash(torch.tensor(100.0))), classic.A, rel_tol=1e-6)


def test_input_is_rescaled_to_the_paper_range():
    background = torch.tensor(BACKGROUND)
    ink = torch.tensor((1 - MNIST_MEAN) / MNIST_STD)
    assert torch.isclose(classic.to_paper_scale(background), torch.tensor(-0.1))
    assert torch.isclose(classic.to_paper_scale(ink), torch.tensor(1.175))


def test_partial_conv_uses_only_the_table():
    layer = PartialConv2d(C3_TABLE)
    dense = layer.full_weight()
    used = (dense.abs().sum(dim=(2, 3)) > 0).float()
    assert torch.equal(used, classic.c3_connection_mask())
    x = torch.randn(2, 6, 14, 14)
    x_changed = x.clone()
    x_changed[:, 5] += 10  # map 5 feeds C3 maps whose rows include 5 only
    changed = (layer(x_changed) - layer(x)).abs().sum(dim=(0, 2, 3)) > 1e-6
    assert changed.tolist() == [5 in inputs for inputs in C3_TABLE]


def test_subsampling_is_a_scaled_sum_plus_bias():
    layer = Subsampling(2)
    with torch.no_grad():
        layer.coefficient.copy_(torch.tensor([1.0, 0.5]))
        layer.bias.copy_(torch.tensor([0.0, 1.0]))
    x = torch.arange(32.0).view(1, 2, 4, 4)
    out = layer(x)
    assert out[0, 0, 0, 0] == 0 + 1 + 4 + 5
    assert out[0, 1, 0, 0] == 0.5 * (16 + 17 + 20 + 21) + 1


def test_rbf_centres_are_distinct_bitmaps():
    centres = classic.rbf_centres()
    assert centres.shape == (10, 84) and set(centres.unique().tolist()) == {-1.0, 1.0}
    assert all(len(b) == 12 and all(len(row) == 7 for row in b) for b in classic.DIGIT_BITMAPS)
    distances = torch.cdist(centres, centres)
    assert distances[~torch.eye(10, dtype=torch.bool)].min() > 0


def test_map_loss_is_cross_entropy_with_a_rubbish_class():
    scores = torch.tensor([[-1.0, -5.0, -9.0]])
    y = torch.tensor([0])
    expected = 1.0 + math.log(math.exp(-2.0) + sum(math.exp(-p) for p in (1.0, 5.0, 9.0)))
    assert math.isclose(float(map_loss(scores, y, j=2.0)), expected, rel_tol=1e-6)
    assert float(map_loss(scores, y, j=2.0)) > float(torch.nn.functional.cross_entropy(scores, y))


def test_wrong_input_gets_the_same_helpful_error():
    with pytest.raises(ValueError, match="LeNet5Classic.*pad 28x28"):
        LeNet5Classic()(torch.zeros(1, 1, 28, 28))


def test_the_shipped_classic_checkpoint():
    meta = pretrained_metadata("lenet5_classic")
    model = load_pretrained("lenet5_classic")
    assert isinstance(model, LeNet5Classic)
    assert meta["parameters"] == count_parameters(model) == 60_000
    assert 1 - meta["test_accuracy"] <= 0.010  # the goal: at most 1.0% test error
    assert meta["command"] == "python -m lenet_course.pretrain --model classic"


def test_stages_follow_the_paper_and_end_in_the_scores():
    model = LeNet5Classic()
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        out = model.stages(x)
        assert {k: tuple(v.shape[1:]) for k, v in out.items()} == {
            "c1": (6, 28, 28), "s2": (6, 14, 14), "c3": (16, 10, 10), "s4": (16, 5, 5),
            "c5": (120,), "f6": (84,), "output": (10,)}
        assert torch.allclose(out["output"], model(x))
        assert torch.allclose(out["f6"], model.f6_state(x))
        assert out["c1"].abs().max() <= classic.A  # squashed
