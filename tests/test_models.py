import pytest
import torch

from lenet_course import models
from lenet_course.models import STAGES, LeNet5
from lenet_course.shapes import conv_parameters, count_parameters, linear_parameters


def article_forward(model: LeNet5, x: torch.Tensor) -> torch.Tensor:
    """The article's forward pass written out independently: ReLU before each max pool."""
    x = torch.nn.functional.max_pool2d(torch.relu(model.c1(x)), 2)
    x = torch.nn.functional.max_pool2d(torch.relu(model.c3(x)), 2)
    x = torch.relu(model.f5(x.reshape(len(x), -1)))
    x = torch.relu(model.f6(x))
    return model.output(x)


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


def test_flatten_features_follows_the_input_size():
    assert models.flatten_features(32) == 400
    assert models.flatten_features(28) == 256
    model = LeNet5()
    assert model.f5.in_features == models.flatten_features()


def test_forward_equals_the_article_order_of_operations():
    model = LeNet5()
    x = torch.randn(16, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model(x), article_forward(model, x), atol=1e-6)


def test_stages_are_named_shaped_and_end_in_the_logits():
    model = LeNet5()
    x = torch.randn(3, 1, 32, 32)
    with torch.no_grad():
        out = model.stages(x)
        assert tuple(out) == STAGES == tuple(n for n, _ in model.named_children())
        assert {k: tuple(v.shape[1:]) for k, v in out.items()} == {
            "c1": (6, 28, 28), "s2": (6, 14, 14), "c3": (16, 10, 10), "s4": (16, 5, 5),
            "f5": (120,), "f6": (84,), "output": (10,)}
        assert torch.allclose(out["output"], model(x), atol=1e-6)
        assert torch.equal(out["c1"], torch.relu(model.c1(x)))  # after the ReLU
        assert torch.equal(out["s2"], model.s2(out["c1"]))
        assert (out["f6"] >= 0).all() and (out["output"] < 0).any()  # logits are not ReLU'd
    with pytest.raises(ValueError, match="pad 28x28"):
        model.stages(torch.zeros(1, 1, 28, 28))
