"""The row-wise 2x2 max pooling gives PyTorch's numbers and gradients bit for bit, ties included."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from toy import toy_data

from lenet_course.kernels import MaxPool2x2, _row_pooling_applies, faster_pooling, max_pool_2x2
from lenet_course.models import LeNet5
from lenet_course.train import TrainConfig, fit


def with_ties(shape, dtype) -> torch.Tensor:
    """Random values, channels-last, with every kind of tie in a 2x2 block somewhere."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=g).to(dtype)
    h = shape[2]
    x[:, :, : h // 4] = 0.5  # all four equal (the blank background of a digit)
    x[:, :, h // 4: h // 2, 0::2] = x[:, :, h // 4: h // 2, 1::2]  # left equals right
    x[:, :, h // 2: 3 * h // 4: 2] = x[:, :, h // 2 + 1: 3 * h // 4 + 1: 2]  # top equals bottom
    x[:, :, -2, 0::2] = x[:, :, -1, 1::2]  # the diagonal pair (bottom left, top right)
    return x.contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("shape", [(3, 6, 28, 28), (2, 1, 8, 6), (2, 15, 10, 10)])
def test_row_pooling_equals_max_pool2d_forward_and_backward(shape, dtype):
    x = with_ties(shape, dtype)
    assert _row_pooling_applies(x)
    ours, theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
    out, expected = max_pool_2x2(ours), F.max_pool2d(theirs, 2)
    assert torch.equal(out, expected) and out.is_contiguous(memory_format=torch.channels_last)
    grad = torch.randn(out.shape, generator=torch.Generator().manual_seed(1)).to(dtype)
    out.backward(grad)
    expected.backward(grad)
    assert torch.equal(ours.grad, theirs.grad)


def test_row_pooling_gives_the_gradient_to_the_first_of_tied_maxima():
    x = torch.zeros(1, 1, 2, 2, requires_grad=True)  # four equal values: the top left wins
    max_pool_2x2(x.contiguous(memory_format=torch.channels_last)).sum().backward()
    assert x.grad.flatten().tolist() == [1.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("x", [
    torch.randn(2, 6, 28, 28),  # not channels-last
    torch.randn(2, 6, 9, 10).contiguous(memory_format=torch.channels_last),  # odd height
    torch.randn(2, 16, 10, 10).contiguous(memory_format=torch.channels_last),  # enough channels for PyTorch's
], ids=["nchw", "odd", "16-channels"])
def test_other_inputs_go_to_pytorchs_own_pooling(x):
    assert not _row_pooling_applies(x)
    assert torch.equal(max_pool_2x2(x), F.max_pool2d(x, 2))


def test_tensors_off_the_cpu_go_to_pytorchs_own_pooling():
    x = torch.empty(2, 6, 28, 28, device="meta").contiguous(memory_format=torch.channels_last)
    assert not _row_pooling_applies(x)  # CUDA and MPS have fast kernels of their own
    assert max_pool_2x2(x).shape == (2, 6, 14, 14)


def test_row_pooling_runs_without_gradients():
    x = torch.randn(2, 6, 28, 28).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        assert torch.equal(max_pool_2x2(x), F.max_pool2d(x, 2))


def test_faster_pooling_swaps_plain_2x2_max_pools_and_puts_them_back():
    model = LeNet5()
    other = nn.MaxPool2d(3)  # not 2x2: left alone
    model.extra = nn.Sequential(nn.MaxPool2d(2), other)
    originals = (model.s2, model.s4, model.extra[0])
    with faster_pooling(model) as inside:
        assert inside is model
        assert all(isinstance(m, MaxPool2x2) for m in (model.s2, model.s4, model.extra[0]))
        assert model.extra[1] is other
        x = torch.randn(2, 1, 32, 32).contiguous(memory_format=torch.channels_last)
        swapped = model.stages(x)
    assert (model.s2, model.s4, model.extra[0]) == originals
    expected = model.stages(x)
    assert all(torch.equal(swapped[k], expected[k]) for k in expected)


def test_faster_pooling_puts_the_layers_back_after_an_error():
    model = LeNet5()
    s2 = model.s2
    with pytest.raises(RuntimeError), faster_pooling(model):
        raise RuntimeError("inside")
    assert model.s2 is s2


@pytest.mark.parametrize("bf16", [False, True])
def test_fit_trains_the_same_weights_with_and_without_row_pooling(bf16):
    data = toy_data()
    config = TrainConfig(num_epochs=1, batch_size=32, bf16=bf16, seed=3)
    fast = fit(LeNet5, data, config, device="cpu", progress=False).model
    plain = fit(LeNet5, data, TrainConfig(**{**config.__dict__, "fast_pooling": False}), device="cpu",
                progress=False).model
    assert type(fast.s2) is nn.MaxPool2d  # fit put the layer back
    for (name, a), b in zip(fast.state_dict().items(), plain.state_dict().values()):
        assert torch.equal(a, b), name
