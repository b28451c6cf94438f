
"""Every checker accepts a right answer, answers an untouched stub kindly, and names the usual mistakes.

Each answer below is written the way a learner would write it; each case asserts the verdict,
that exactly one line was printed, and a key phrase of that line.
"""

import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lenet_course import checks
from lenet_course.inputs import BACKGROUND, MNIST_MEAN, MNIST_STD
from lenet_course.models import LeNet5


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The checkers run tiny models, for which thread start-up costs more than it saves (seconds on a busy
    2-core runner); one thread keeps this file well under its 10 s budget."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def stub(*args, **kwargs):
    raise NotImplementedError


def empty_stub(*args, **kwargs):
    """A stub whose body is only `...`: it returns None."""
    ...


# --- learner-style answers: one right, several typically wrong, per exercise -------------------

def grad_right(w, x, y):
    return 2 * (w * x - y) * x


def normalise(images, fill=None, scale=255.0, mean=MNIST_MEAN, std=MNIST_STD, pad_after=False, channel=True):
    x = images.float()
    if channel:
        x = x.unsqueeze(1)
    if not pad_after:
        x = F.pad(x, (2, 2, 2, 2))
    x = (x / scale - mean) / std
    if pad_after:
        x = F.pad(x, (2, 2, 2, 2), value=fill)
    return x


def convolve(image, kernel, bias, flip=False, add_bias=True, rows=None):
    k = kernel.shape[0]
    if flip:
        kernel = kernel[::-1, ::-1]
    out_h = image.shape[0] - k + 1 if rows is None else rows(image.shape[0], k)
    out_w = image.shape[1] - k + 1 if rows is None else rows(image.shape[1], k)
    out = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            out[i, j] = np.sum(image[i:i + k, j:j + k] * kernel) + (bias if add_bias else 0)
    return out


def max_pool(fmap, reduce=np.max, stride=2):
    out_h, out_w = (fmap.shape[0] - 2) // stride + 1, (fmap.shape[1] - 2) // stride + 1
    out = np.zeros((out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            out[i, j] = reduce(fmap[stride * i:stride * i + 2, stride * j:stride * j + 2])
    return out


def max_pool_from_zero(fmap):
    out = np.zeros((fmap.shape[0] // 2, fmap.shape[1] // 2))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            best = 0.0  # the usual slip: negative maps never beat it
            for v in fmap[2 * i:2 * i + 2, 2 * j:2 * j + 2].ravel():
                best = max(best, v)
            out[i, j] = best
    return out


def c3_parameters(table):
    return sum(len(inputs) * 5 * 5 + 1 for inputs in table)


def softmax(logits, dim=1, stable=True, normalise=True):
    if stable:
        logits = logits - logits.max(dim=dim, keepdim=True).values
    e = torch.exp(logits)
    return e / e.sum(dim=dim, keepdim=True) if normalise else e


def shared_parameters(in_maps, out_maps, kernel_size, out_size, shared):
    per_kernel = in_maps * kernel_size * kernel_size + 1
    return out_maps * per_kernel if shared else out_maps * out_size * out_size * per_kernel


def train_step(model, optimizer, X, y, zero=True, backward=True, step=True, item=True):
    if zero:
        optimizer.zero_grad()
    loss = F.cross_entropy(model(X), y)
    if backward:
        loss.backward()
    if step:
        optimizer.step()
    return loss.item() if item else loss


def shift(X, dy, dx, fill=BACKGROUND):
    h, w = X.shape[-2:]
    out = torch.full_like(X, fill)
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        X[..., max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def receptive_field_size(layers, stride_first=False, use_jump=True, start=1):
    size, jump = start, 1
    for k, s in layers:
        if stride_first:
            jump *= s
        size += (k - 1) * (jump if use_jump else 1)
        if not stride_first:
            jump *= s
    return size


def output_size(size, kernel_size, stride=1, padding=0):
    return (size + 2 * padding - kernel_size) // stride + 1


def flatten_size(input_size):
    side = input_size
    for _ in range(2):  # C1 then S2, C3 then S4
        side = (side - 5 + 1) // 2
    return 16 * side * side


class HalfWritten(nn.Module):
    """A LeNet-5 whose forward is still the stub."""

    def forward(self, x):
        raise NotImplementedError


class Written(nn.Module):
    """A LeNet-5 as a learner writes it: ``names`` for the seven layers, a ReLU after each layer in ``relu``."""

    def __init__(self, names=("c1", "s2", "c3", "s4", "f5", "f6", "output"), relu=("c1", "c3", "f5", "f6")):
        super().__init__()
        self.names, self.relu = names, relu
        layers = [nn.Conv2d(1, 6, 5), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.MaxPool2d(2),
                  nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)]
        for name, layer in zip(names, layers):
            setattr(self, name, layer)

    def forward(self, x):
        c1, s2, c3, s4, f5, f6, output = (getattr(self, name) for name in self.names)
        act = {name: (torch.relu if name in self.relu else (lambda t: t)) for name in ("c1", "c3", "f5", "f6")}
        x = s4(act["c3"](c3(s2(act["c1"](c1(x))))))
        x = act["f6"](f6(act["f5"](f5(torch.flatten(x, 1)))))
        return output(x)


def confusion_matrix(y_true, y_pred):
    matrix = torch.zeros(10, 10, dtype=torch.long)
    for t, p in zip(y_true.tolist(), y_pred.tolist()):
        matrix[t, p] += 1
    return matrix


def confusion_matrix_fancy(y_true, y_pred):
    """The usual slip: a repeated (true, predicted) pair is counted once."""
    matrix = np.zeros((10, 10))
    matrix[y_true.numpy(), y_pred.numpy()] += 1
    return matrix


def nearest_neighbour_accuracy(Z_ref, y_ref, Z, y):
    """Exercise 3 of the feature hierarchy chapter: 1-nearest-neighbour accuracy."""
    return (y_ref[torch.cdist(Z, Z_ref).argmin(dim=1)] == y).float().mean().item()


def nearest_mean_accuracy(Z_ref, y_ref, Z, y):
    means = torch.stack([Z_ref[y_ref == k].mean(dim=0) for k in range(int(y_ref.max()) + 1)])
    return (torch.cdist(Z, means).argmin(dim=1) == y).float().mean()


def nearest_neighbour_by_loop(Z_ref, y_ref, Z, y):
    right = 0
    for z, label in zip(Z, y):
        right += int(y_ref[((Z_ref - z) ** 2).sum(dim=1).argmin()] == label)
    return right / len(Z)


def freeze_features(model, layers=("c1", "c3")):
    """Exercise 3 of the innovations chapter: gradients off for ``layers``, the rest returned."""
    for name in layers:
        for p in getattr(model, name).parameters():
            p.requires_grad_(False)
    return [p for p in model.parameters() if p.requires_grad]


def freeze_on_the_module(model):
    model.c1.requires_grad = False  # a new attribute of the layer: autograd never reads it
    model.c3.requires_grad = False
    return list(model.parameters())


HEAD_PARAMETERS = sum(p.numel() for name in ("f5", "f6", "output") for p in getattr(LeNet5(), name).parameters())


def freeze_and_reset(model):
    trainable = freeze_features(model)
    with torch.no_grad():
        model.output.bias.zero_()
    return trainable


CASES = [
    # check, answer, accepted, key phrase of the printed line
    (checks.check_gradient, grad_right, True, "agrees with autograd"),
    (checks.check_gradient, stub, False, "still the stub"),
    (checks.check_gradient, lambda w, x, y: (w * x - y) * x, False, "missing the factor 2"),
    (checks.check_gradient, lambda w, x, y: 2 * (y - w * x) * x, False, "wrong sign"),
    (checks.check_gradient, lambda w, x, y: 2 * (w * x - y), False, "forgot the factor x"),
    (checks.check_gradient, lambda w, x, y: torch.tensor(2 * (w * x - y) * x), True, "agrees"),  # 0-d tensor

    (checks.check_normalise, normalise, True, "match"),
    (checks.check_normalise, stub, False, "still the stub"),
    (checks.check_normalise, lambda im: (im.float().unsqueeze(1) / 255 - MNIST_MEAN) / MNIST_STD, False, "no padding"),
    (checks.check_normalise, lambda im: normalise(im, channel=False), False, "channel dimension"),
    (checks.check_normalise, lambda im: normalise(im, fill=0.0, pad_after=True), False, "instead of the background"),
    (checks.check_normalise, lambda im: normalise(im, scale=1.0), False, "forgot to divide by 255"),
    (checks.check_normalise, lambda im: normalise(im, mean=0.0, std=1.0), False, "forgot to normalise"),
    (checks.check_normalise, lambda im: F.pad(im.unsqueeze(1), (2, 2, 2, 2)), False, "convert with .float()"),

    (checks.check_convolve, convolve, True, "matches F.conv2d"),
    (checks.check_convolve, stub, False, "still the stub"),
    (checks.check_convolve, empty_stub, False, "still the stub"),
    (checks.check_convolve, lambda i, k, b: convolve(i, k, b, add_bias=False), False, "forgot to add the bias"),
    (checks.check_convolve, lambda i, k, b: convolve(i, k, b, flip=True), False, "flipped the kernel"),
    (checks.check_convolve, lambda i, k, b: convolve(i, k, b, rows=lambda n, k: n - k), False, "off by one"),

    (checks.check_max_pool, max_pool, True, "matches F.max_pool2d"),
    (checks.check_max_pool, stub, False, "still the stub"),
    (checks.check_max_pool, lambda m: max_pool(m, reduce=np.mean), False, "averaged instead"),
    (checks.check_max_pool, lambda m: max_pool(m, stride=1), False, "stride 1"),
    (checks.check_max_pool, lambda m: max_pool(m).T, False, "transposed"),
    (checks.check_max_pool, max_pool_from_zero, False, "started at 0"),

    (checks.check_c3_parameters, c3_parameters, True, "1,516 parameters"),
    (checks.check_c3_parameters, stub, False, "still the stub"),
    (checks.check_c3_parameters, lambda t: sum(len(i) * 25 for i in t), False, "forgot the bias"),
    (checks.check_c3_parameters, lambda t: len(t) * (6 * 25 + 1), False, "as reading all 6"),
    (checks.check_c3_parameters, lambda t: sum(len(i) * 26 for i in t), False, "one bias per connection"),
    (checks.check_c3_parameters, lambda t: len(t) * (max(map(len, t)) * 25 + 1), False, "as fully connected"),

    (checks.check_flatten_size, flatten_size, True, "flatten length"),
    (checks.check_flatten_size, stub, False, "still the stub"),
    (checks.check_flatten_size, lambda n: 400, False, "don't type it in"),
    (checks.check_flatten_size, lambda n: flatten_size(n) // 16, False, "16 maps"),
    (checks.check_flatten_size, lambda n: 1 / 0, False, "ZeroDivisionError"),

    (checks.check_softmax, softmax, True, "large logits included"),
    (checks.check_softmax, lambda z: torch.softmax(z, dim=1), True, "matches torch.softmax"),
    (checks.check_softmax, stub, False, "still the stub"),
    (checks.check_softmax, lambda z: softmax(z, stable=False), False, "subtract each row's maximum"),
    (checks.check_softmax, lambda z: softmax(z, dim=0), False, "wrong axis"),
    (checks.check_softmax, lambda z: softmax(z, normalise=False), False, "forgot to normalise"),
    (checks.check_softmax, lambda z: softmax(z, stable=False, normalise=False), False, "forgot to normalise"),

    (checks.check_shared_parameters, shared_parameters, True, "C1 has 156 parameters shared, 122,304 not"),
    (checks.check_shared_parameters, stub, False, "still the stub"),
    (checks.check_shared_parameters, lambda i, o, k, n, s: shared_parameters(i, o, k, n, s) - (o if s else o * n * n),
     False, "forgot the bias"),
    (checks.check_shared_parameters, lambda i, o, k, n, s: o * (i * k * k + 1), False, "ignored `shared`"),

    (checks.check_train_step, train_step, True, "match the reference"),
    (checks.check_train_step, stub, False, "still the stub"),
    (checks.check_train_step, lambda m, o, X, y: train_step(m, o, X, y, zero=False), False,
     "forgot optimizer.zero_grad()"),
    (checks.check_train_step, lambda m, o, X, y: train_step(m, o, X, y, step=False), False, "forgot optimizer.step()"),
    (checks.check_train_step, lambda m, o, X, y: train_step(m, o, X, y, backward=False), False,
     "forgot loss.backward()"),
    (checks.check_train_step, lambda m, o, X, y: train_step(m, o, X, y, item=False), True, "loss.item()"),
    (checks.check_train_step, lambda m, o, X, y: train_step(m, o, X, y) and None, False, "return loss.item()"),

    (checks.check_shift, shift, True, "matches augment.translate"),
    (checks.check_shift, stub, False, "still the stub"),
    (checks.check_shift, lambda X, dy, dx: shift(X, -dy, -dx), False, "moved the wrong way"),
    (checks.check_shift, lambda X, dy, dx: shift(X, dy, dx, fill=0.0), False, "filled with 0"),
    (checks.check_shift, lambda X, dy, dx: torch.roll(X, (dy, dx), dims=(2, 3)), False, "wrapped around"),

    (checks.check_squash, lambda a: 1.7159 * torch.tanh(2 * a / 3), True, "matches the paper's"),
    (checks.check_squash, stub, False, "still the stub"),
    (checks.check_squash, torch.tanh, False, "plain tanh"),
    (checks.check_squash, lambda a: 1.7159 * torch.tanh(a), False, "forgot S"),
    (checks.check_squash, lambda a: torch.tanh(2 * a / 3), False, "forgot A"),

    (checks.check_receptive_field_size, receptive_field_size, True, "5, 6, 14, 16"),
    (checks.check_receptive_field_size, stub, False, "still the stub"),
    (checks.check_receptive_field_size, lambda ls: receptive_field_size(ls, use_jump=False), False,
     "forgot to multiply the jump by the stride"),
    (checks.check_receptive_field_size, lambda ls: receptive_field_size(ls, start=0), False, "off by one"),
    (checks.check_receptive_field_size, lambda ls: receptive_field_size(ls, stride_first=True), False,
     "before growing the size"),

    (checks.check_output_size, output_size, True, "agrees with the rule"),
    (checks.check_output_size, stub, False, "still the stub"),
    (checks.check_output_size, lambda n, k, stride=1, padding=0: (n + 2 * padding - k) // stride, False, "off by one"),
    (checks.check_output_size, lambda n, k, stride=1, padding=0: n + 2 * padding - k + 1, False, "ignored stride"),
    (checks.check_output_size, lambda n, k, stride=1, padding=0: (n + 2 * padding - k) / stride + 1, False,
     "instead of //"),
    (checks.check_output_size, lambda n, k, stride=1, padding=0: (n - k) // stride + 1, False, "ignored padding"),
    (checks.check_output_size, lambda n, k: n - k + 1, False, "unexpected keyword argument 'stride'"),

    (checks.check_confusion_matrix, confusion_matrix, True, "repeated pairs included"),
    (checks.check_confusion_matrix, lambda t, p: torch.bincount(10 * t + p, minlength=100).reshape(10, 10), True,
     "matches"),
    (checks.check_confusion_matrix, stub, False, "still the stub"),
    (checks.check_confusion_matrix, lambda t, p: confusion_matrix(t, p).T, False, "rows and columns swapped"),
    (checks.check_confusion_matrix, confusion_matrix_fancy, False, "counted at most once"),
    (checks.check_confusion_matrix,
     lambda t, p: confusion_matrix(t, p)[:1 + max(t.max(), p.max()), :1 + max(t.max(), p.max())],
     False, "make it 10x10"),

    (checks.check_lenet5, LeNet5(), True, "61,706 parameters"),
    (checks.check_nearest_neighbour, nearest_neighbour_accuracy, True, "on all 3 cases"),
    (checks.check_nearest_neighbour, nearest_neighbour_by_loop, True, "on all 3 cases"),
    (checks.check_nearest_neighbour, lambda *a: 100 * nearest_neighbour_accuracy(*a), False, "a percentage"),
    (checks.check_nearest_neighbour, lambda r, yr, z, y: (yr[torch.cdist(z, r).argmin(1)] == y).sum(), False,
     "a count of correct rows"),
    (checks.check_nearest_neighbour, lambda r, yr, z, y: (yr[torch.cdist(z, r).argmax(1)] == y).float().mean(),
     False, "not the argmax"),
    (checks.check_nearest_neighbour, nearest_mean_accuracy, False, "that is the nearest class mean"),
    (checks.check_nearest_neighbour, lambda r, yr, z, y: (torch.cdist(z, r).argmin(1) == y).float().mean(), False,
     "find the row of Z_ref at the smallest distance"),
    (checks.check_nearest_neighbour, stub, False, "still the stub"),
    (checks.check_freeze_features, freeze_features, True, f"({HEAD_PARAMETERS:,} parameters) left to train"),
    (checks.check_freeze_features, lambda m: (p for p in freeze_features(m)), True, "c1 and c3 frozen"),
    (checks.check_freeze_features, freeze_on_the_module, False, "only adds an attribute to the layer"),
    (checks.check_freeze_features, lambda m: freeze_features(m, ("c1",)), False, "c3.weight, c3.bias still require"),
    (checks.check_freeze_features, lambda m: freeze_features(m, ("c1", "c3", "f5", "f6", "output")), False,
     "the classifier has to keep learning"),
    (checks.check_freeze_features, lambda m: [freeze_features(m), *m.parameters()][1:], False,
     "it includes frozen ones"),
    (checks.check_freeze_features, lambda m: freeze_features(m)[:2], False, "all six of them"),
    (checks.check_freeze_features, freeze_and_reset, False, "output.bias changed"),
    (checks.check_freeze_features, lambda m: 6, False, "return the parameters that still train"),
    (checks.check_freeze_features, stub, False, "still the stub"),
    (checks.check_lenet5, Written(), True, "LeNet5's outputs"),
    (checks.check_lenet5, Written(names=("conv2d1", "pool1", "conv2d2", "pool2", "fc1", "fc2", "fc3")), False,
     "no layer named c1, s2, c3, s4, f5, f6, output"),
    (checks.check_lenet5, Written(names=("c1", "s2", "c3", "s4", "fc5", "fc6", "output")), False,
     "no layer named f5, f6"),
    (checks.check_lenet5, Written(names=("c1", "s2", "c3", "s4", "f6", "f5", "output")), False,
     "f5 has parameters of shapes"),
    (checks.check_lenet5, Written(relu=()), False, "no ReLU after any layer"),
    (checks.check_lenet5, Written(relu=("c1", "c3", "f6")), False, "no ReLU after f5"),
    (checks.check_lenet5, Written(relu=("c1", "f5")), False, "no ReLU after c3 and f6"),
    (checks.check_lenet5, HalfWritten(), False, "`HalfWritten` is still the stub"),
    (checks.check_lenet5, ..., False, "still the stub"),
    (checks.check_lenet5, LeNet5, False, "pass an instance"),
    (checks.check_lenet5, nn.Sequential(nn.Flatten(), nn.Linear(1024, 5)), False, "expected (2, 10)"),
    (checks.check_lenet5, nn.Sequential(nn.Flatten(), nn.Linear(1024, 10)), False, "10,250 parameters"),
    (checks.check_lenet5, nn.Linear(3, 3), False, "raised RuntimeError"),
]


@pytest.mark.parametrize(("check", "answer", "accepted", "phrase"), CASES)
def test_checker_verdict(check, answer, accepted, phrase, capsys):
    assert bool(check(answer)) is accepted
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("Correct: " if accepted else "Not yet: ")
    assert phrase in lines[0]


VALUE_CASES = [
    # check, (layer, answer), accepted, key phrase
    (checks.check_parameter_count, ("c1", 156), True, "156 parameters"),
    (checks.check_parameter_count, ("f6", ...), False, "still the stub"),
    (checks.check_parameter_count, ("c1", 150), False, "forgot the biases"),
    (checks.check_parameter_count, ("c1", 122_304), False, "number of connections"),
    (checks.check_parameter_count, ("s2", 0), True, "no parameters"),
    (checks.check_parameter_count, ("s2", 24), False, "no parameters"),
    (checks.check_parameter_count, ("c7", 14), False, "not a layer"),
    (checks.check_parameter_count, ("f5", "many"), False, "is not a number"),
]


@pytest.mark.parametrize(("check", "args", "accepted", "phrase"), VALUE_CASES)
def test_value_checker_verdict(check, args, accepted, phrase, capsys):
    assert bool(check(*args)) is accepted
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, lines
    assert phrase in lines[0]


# The checkers that take the learner's function (the others take a layer name and a number).
CHECKERS = [fn for fn in checks.CHECKERS.values() if len(inspect.signature(fn).parameters) == 1]

CHAPTER_NAMES = {"01": "history", "02": "PyTorch basics", "03": "input", "04": "C1", "05": "S2", "06": "C3",
                 "07": "S4", "08": "F5/F6/output", "09": "data-flow", "10": "receptive fields",
                 "11": "feature hierarchy", "12": "weight sharing", "13": "innovations",
                 "14": "PyTorch implementation", "15": "training-loop", "16": "training-fast", "17": "distortions",
                 "18": "1998"}


def test_every_checker_is_listed_and_names_the_chapters_that_call_it():
    """Each checker's docstring says "Used in the ... chapter(s)": exactly the chapters whose code
    calls it, so a reader of the package can find where each one is met."""
    assert len(CHECKERS) >= 15 and set(checks.CHECKERS) == {n for n in dir(checks) if n.startswith("check_")}
    code = {p.name[:2]: "\n".join("".join(c["source"]) for c in json.loads(p.read_text())["cells"]
                                   if c["cell_type"] == "code")
            for p in sorted((Path(checks.__file__).parent.parent / "book").glob("[0-9][0-9]_*.ipynb"))}
    for name, fn in checks.CHECKERS.items():
        doc = " ".join((fn.__doc__ or "").split())
        used = re.search(r"Used in the (.+?)\.(?:\s|$)", doc)
        assert used, f"{name}'s docstring does not say where it is used"
        callers = {n for n, source in code.items() if re.search(rf"\b{name}\(", source)}
        named = {n for n, title in CHAPTER_NAMES.items()
                 if re.search(rf"(?<![\w/-]){re.escape(title)}(?![\w/-])", used.group(1))}
        assert named == callers, f"{name}: docstring names chapters {sorted(named)}, called in {sorted(callers)}"


@pytest.mark.parametrize("check", CHECKERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("answer", [None, ..., 42, "convolve", lambda *a, **k: "nonsense",
                                    lambda *a, **k: [[1, 2], [3]]],
                         ids=["None", "Ellipsis", "int", "str", "returns-str", "returns-ragged"])
def test_checkers_never_raise_on_nonsense(check, answer, capsys):
    verdict = check(answer)
    assert not verdict and verdict == False  # noqa: E712
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Not yet: "), lines


def test_checkers_leave_the_global_random_state_alone():
    model = LeNet5()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    checks.check_train_step(train_step)
    checks.check_c3_parameters(c3_parameters)
    checks.check_lenet5(model)
    assert torch.equal(torch.rand(3), expected)



def test_a_verdict_is_true_when_right_and_shows_nothing_more_in_a_notebook(capsys):
    right = checks.check_output_size(lambda size, k, stride=1, padding=0: (size + 2 * padding - k) // stride + 1)
    wrong = checks.check_output_size(lambda size, k, stride=1, padding=0: size - k)
    assert right and not wrong and right == True and wrong == False  # noqa: E712
    assert right.message.startswith("Correct:") and wrong.message.startswith("Not yet:")
    assert capsys.readouterr().out.splitlines() == [right.message, wrong.message]  # one line each
    right._ipython_display_()  # what IPython calls to show the verdict under the cell
    assert capsys.readouterr().out == ""  # nothing more than the printed line
