import pytest
import torch
import torch.nn.functional as F

from lenet_course import optim
from lenet_course.models import LeNet5
from lenet_course.optim import NS_COEFFICIENTS, NS_STEPS, Muon, orthogonalize


def test_newton_schulz_brings_singular_values_from_0_003_to_1_near_1():
    """The module's claim about its coefficients: five steps of s -> a s + b s^3 + c s^5 take
    every singular value from 0.003 to 1 to between about 0.68 and 1.2."""
    a, b, c = NS_COEFFICIENTS
    s = torch.logspace(-2.5, 0, 1000, dtype=torch.float64)  # 0.003 ... 1
    for _ in range(NS_STEPS):
        s = a * s + b * s**3 + c * s**5
    assert s.min() > 0.68 and s.max() < 1.21


@pytest.mark.parametrize("shape", [(6, 25), (16, 150), (120, 400), (84, 120), (10, 84), (400, 120)])
def test_orthogonalize_keeps_the_singular_vectors_and_sets_the_values_near_1(shape):
    torch.manual_seed(0)
    u, _ = torch.linalg.qr(torch.randn(shape[0], min(shape)))
    v, _ = torch.linalg.qr(torch.randn(shape[1], min(shape)))
    values = torch.linspace(0.05, 1.0, min(shape))  # a spread of 20x, as a gradient has
    matrix = u @ torch.diag(values) @ v.T
    result = orthogonalize(matrix)
    assert result.shape == matrix.shape
    s = torch.linalg.svdvals(result)
    assert s.min() > 0.68 and s.max() < 1.21
    # the same singular vectors: U^T R V is diagonal, with the singular values of R
    inner = u.T @ result @ v
    assert torch.allclose(inner, torch.diag(torch.diagonal(inner)), atol=1e-3)
    assert torch.allclose(orthogonalize(matrix.T), result.T, atol=1e-5)  # tall or wide alike


def test_orthogonalize_refuses_a_tensor_that_is_not_a_matrix():
    with pytest.raises(ValueError, match="2-D matrix"):
        orthogonalize(torch.randn(6, 1, 5, 5))


def test_muon_puts_weights_in_one_group_and_biases_in_adams():
    model = LeNet5()
    optimizer = Muon(model.parameters(), lr=1e-2, muon_lr=0.05)
    muon_group, adam_group = optimizer.param_groups
    assert muon_group["muon"] and muon_group["lr"] == 0.05
    assert not adam_group["muon"] and adam_group["lr"] == 1e-2
    assert {id(p) for p in muon_group["params"]} == {id(m.weight) for m in model.children() if hasattr(m, "weight")}
    assert all(p.ndim == 1 for p in adam_group["params"]) and len(adam_group["params"]) == 5
    with pytest.raises(ValueError, match="no parameters"):
        Muon([])
    with pytest.raises(ValueError, match="positive"):
        Muon(model.parameters(), muon_lr=0.0)
    with pytest.raises(ValueError, match="no closure"):
        optimizer.step(lambda: 0.0)


def test_muon_gives_adam_the_parameters_it_is_told_to_and_its_iterations_to_orthogonalize(monkeypatch):
    model = LeNet5()
    optimizer = Muon(model.parameters(), ns_steps=3, adam_params=model.output.parameters())
    muon_group, adam_group = optimizer.param_groups
    assert {id(p) for p in adam_group["params"]} == {id(p) for n, p in model.named_parameters()
                                                      if n.endswith("bias") or n.startswith("output.")}
    assert len(muon_group["params"]) == 4 and muon_group["ns_steps"] == 3
    steps = []
    monkeypatch.setattr(optim, "orthogonalize", lambda m, n: steps.append(n) or m)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    optimizer.step()
    assert steps == [3] * 4  # one orthogonalisation per Muon matrix, with 3 iterations
    with pytest.raises(ValueError, match="ns_steps"):
        Muon(model.parameters(), ns_steps=0)
    with pytest.raises(ValueError, match="among params"):
        Muon(model.f5.parameters(), adam_params=model.output.parameters())


def test_a_muon_step_moves_a_kernel_by_its_orthogonalised_gradient_and_a_bias_as_adam_does():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(6, 16, 5)  # C3: 16 rows of 150
    twin = torch.nn.Conv2d(6, 16, 5)
    twin.load_state_dict(conv.state_dict())
    x = torch.randn(8, 6, 14, 14)
    muon = Muon(conv.parameters(), lr=1e-2, muon_lr=0.05, betas=(0.9, 0.999))
    adam = torch.optim.Adam([twin.bias], lr=1e-2, betas=(0.9, 0.999))
    for _ in range(3):
        before = conv.weight.detach().clone()
        with torch.no_grad():
            twin.weight.copy_(before)  # the same kernels: the biases then get the same gradient
        for module, optimizer in ((conv, muon), (twin, adam)):
            optimizer.zero_grad()
            module(x).square().mean().backward()
        grad = conv.weight.grad.clone()
        momentum = muon.state[conv.weight]["momentum"].clone() if muon.state[conv.weight] else None
        muon.step()
        adam.step()
        expected_momentum = grad if momentum is None else 0.9 * momentum + grad
        look_ahead = (grad + 0.9 * expected_momentum).reshape(16, -1)
        step = orthogonalize(look_ahead).view_as(before) * 0.05  # 16 rows < 150 columns: scale 1
        assert torch.allclose(conv.weight.detach(), before - step, atol=1e-6)
        assert torch.allclose(conv.bias, twin.bias, atol=1e-6)  # Adam's step, bias-corrected


def test_muon_learns_a_small_least_squares_problem():
    torch.manual_seed(0)
    layer = torch.nn.Linear(20, 5)
    target = torch.nn.Linear(20, 5)
    x = torch.randn(256, 20)
    y = target(x).detach()
    optimizer = Muon(layer.parameters(), lr=1e-2, muon_lr=0.02)
    first = F.mse_loss(layer(x), y).item()
    for _ in range(200):
        optimizer.zero_grad()
        loss = F.mse_loss(layer(x), y)
        loss.backward()
        optimizer.step()
    assert loss.item() < first / 20
