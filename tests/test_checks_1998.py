"""The 1998 chapter's checker for one step of stochastic diagonal Levenberg-Marquardt: it accepts
the right step, answers an untouched stub kindly, names the usual mistakes and never raises."""

import pytest
import torch

from lenet_course import checks


def stub(w, grad, h, lr, mu):
    raise NotImplementedError


def sdlm_step(w, grad, h, lr, mu):
    return w - lr / (mu + h) * grad


@pytest.mark.parametrize("answer, ok, phrase", [
    (sdlm_step, True, "matches w - lr / (mu + h) * grad"),
    (lambda w, grad, h, lr, mu: (w - lr / (mu + h) * grad).numpy(), True, "matches"),  # NumPy is fine
    (stub, False, "`stub` is still the stub"),
    (lambda w, grad, h, lr, mu: lr / (mu + h) * grad, False, "returned the step itself"),
    (lambda w, grad, h, lr, mu: w + lr / (mu + h) * grad, False, "stepped uphill"),
    (lambda w, grad, h, lr, mu: w - lr / h * grad, False, "forgot mu"),
    (lambda w, grad, h, lr, mu: w - lr * (mu + h) * grad, False, "multiplied by mu + h"),
    (lambda w, grad, h, lr, mu: w - (lr / mu + h) * grad, False, "divides lr by mu alone"),
    (lambda w, grad, h, lr, mu: w - lr * grad, False, "ignored h"),
    (lambda w, grad, h, lr, mu: w - lr / (mu + h.sum()) * grad, False, "differ from"),
    (lambda w, grad, h, lr, mu: (w - lr / (mu + h) * grad).flatten(), False, "one new value per weight"),
    (lambda w, grad, h, lr, mu: w - lr / (mu + h) @ grad, False, "raised RuntimeError"),
    (lambda w, grad, h: w, False, "raised TypeError"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_check_sdlm_step(answer, ok, phrase, capsys):
    verdict = checks.check_sdlm_step(answer)
    lines = capsys.readouterr().out.splitlines()
    assert bool(verdict) is ok, lines
    assert len(lines) == 1 and lines[0].startswith("Correct: " if ok else "Not yet: "), lines
    assert phrase in lines[0], lines[0]


@pytest.mark.parametrize("answer", [None, ..., 42, "sdlm_step", lambda *a: "nonsense", lambda *a: [[1, 2], [3]]],
                         ids=["None", "Ellipsis", "int", "str", "returns-str", "returns-ragged"])
def test_check_sdlm_step_never_raises_on_nonsense(answer, capsys):
    verdict = checks.check_sdlm_step(answer)
    assert not verdict
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Not yet: "), lines


def test_check_sdlm_step_leaves_the_inputs_and_the_random_state_alone():
    calls = []

    def in_place(w, grad, h, lr, mu):  # a learner who updates w in place, as optimisers do
        calls.append(w)
        w -= lr / (mu + h) * grad
        return w

    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    assert checks.check_sdlm_step(in_place)
    assert torch.equal(torch.rand(3), expected)
    assert len(calls) == 3


def test_check_sdlm_step_messages_fit_the_page(capsys):
    """Every verdict of this checker fits the 88-character column of the website."""
    for answer in (sdlm_step, stub, lambda w, grad, h, lr, mu: w - lr * grad,
                   lambda w, grad, h, lr, mu: lr / (mu + h) * grad, lambda w, grad, h, lr, mu: w + lr / (mu + h) * grad,
                   lambda w, grad, h, lr, mu: w - lr / h * grad, lambda w, grad, h, lr, mu: w - lr * (mu + h) * grad,
                   lambda w, grad, h, lr, mu: w - (lr / mu + h) * grad):
        checks.check_sdlm_step(answer)
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(len(line) <= 88 for line in lines), [line for line in lines if len(line) > 88]
