import pytest
import torch
from torch import nn

from lenet_course import shapes
from lenet_course.models import LeNet5


def test_output_size_rule_gives_the_article_sizes():
    c1 = shapes.conv_output_size(32, 5)
    s2 = shapes.pool_output_size(c1, 2)
    c3 = shapes.conv_output_size(s2, 5)
    s4 = shapes.pool_output_size(c3, 2)
    assert (c1, s2, c3, s4) == (28, 14, 10, 5)
    assert shapes.conv_output_size(28, 5, padding=2) == 28
    assert shapes.conv_output_size(32, 3, stride=2, padding=1) == 16


@pytest.mark.parametrize("size,k,stride,pad", [(32, 5, 1, 0), (13, 3, 2, 1), (9, 4, 3, 2), (28, 2, 2, 0)])
def test_output_size_agrees_with_torch(size, k, stride, pad):
    out = nn.Conv2d(1, 1, k, stride=stride, padding=pad)(torch.zeros(1, 1, size, size))
    assert out.shape[-1] == shapes.conv_output_size(size, k, stride, pad)


def test_output_size_rejects_a_kernel_larger_than_the_input():
    with pytest.raises(ValueError, match="does not fit"):
        shapes.conv_output_size(4, 5)
    with pytest.raises(ValueError, match="positive"):
        shapes.conv_output_size(32, 5, stride=0)


def test_parameter_and_connection_formulas_match_the_model():
    model = LeNet5()
    assert shapes.count_parameters(model.c1) == shapes.conv_parameters(1, 6, 5) == 156
    assert shapes.count_parameters(model.c3) == shapes.conv_parameters(6, 16, 5) == 2416
    assert shapes.count_parameters(model.f5) == shapes.linear_parameters(400, 120)
    assert shapes.conv_connections(1, 6, 5, 28) == 122_304


def test_trace_shapes_records_every_layer_and_removes_its_hooks():
    model = LeNet5()
    rows = shapes.trace_shapes(model, torch.zeros(3, 1, 32, 32))
    assert [r.name for r in rows] == ["c1", "s2", "c3", "s4", "f5", "f6", "output"]
    assert [r.output_shape for r in rows] == [
        (3, 6, 28, 28), (3, 6, 14, 14), (3, 16, 10, 10), (3, 16, 5, 5), (3, 120), (3, 84), (3, 10)]
    assert sum(r.parameters for r in rows) == shapes.count_parameters(model)
    assert all(not m._forward_hooks for m in model.children())
    table = shapes.format_trace(rows, (3, 1, 32, 32))
    assert "c3" in table and "61,706" in table


def test_receptive_fields_match_the_gradient():
    model = LeNet5()
    fields = {f.name: f for f in shapes.receptive_fields(model)}
    assert [fields[n].size for n in ("c1", "s2", "c3", "s4", "f5")] == [5, 6, 14, 16, 32]
    x = torch.randn(1, 1, 32, 32, requires_grad=True)
    c3 = model.c3(torch.relu(model.s2(model.c1(x))))
    c3[0, 0, 4, 6].backward()
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    top, left, bottom, right = fields["c3"].box(4, 6)
    assert (rows.min().item(), cols.min().item(), rows.max().item(), cols.max().item()) == (top, left, bottom, right)


def test_connections_of_the_article_model():
    counts = shapes.connections(LeNet5())
    assert counts == {"c1": 122_304, "s2": 4_704, "c3": 241_600, "s4": 1_600,
                      "f5": 48_120, "f6": 10_164, "output": 850}
    assert counts["c1"] == shapes.conv_connections(1, 6, 5, 28)
    with pytest.raises(TypeError, match="does not know"):
        shapes.connections(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()))


def test_side_of_reads_a_square_window_either_way():
    assert shapes.side_of(5) == shapes.side_of((5, 5)) == 5
    with pytest.raises(ValueError, match="square"):
        shapes.side_of((5, 3))
