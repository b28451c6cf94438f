"""Exercise answer-checkers. Each prints one line, ``Correct: ...`` or ``Not yet: ...``, and returns a
:class:`Verdict`, true when the answer is right (``assert check_convolve(my_convolve)`` works).

A checker runs the learner's answer on several cases (awkward ones included: non-square,
odd sizes, negative values, batches) and compares it with a value computed from the course's
own code or from torch, so it never holds a hard-coded answer that could drift from the model.
When the answer is wrong, the one line says what is wrong and the usual cause. A checker never
raises: an exception from the learner's code is reported in the line, and a stub that is still
``raise NotImplementedError`` (or returns ``None`` / ``...``) gets a friendly reminder.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, Callable, ParamSpec

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import augment, classic, data, inputs, shapes
from .models import LeNet5, flatten_features

P = ParamSpec("P")
_NO_VALUE = object()  # marks "the stub raised" as opposed to "the stub returned None / ..."


# --- the machinery every checker shares --------------------------------------------------------


class _NotYet(Exception):
    """Raised inside a checker to reject the answer; its text is the one line the learner reads."""


def _one_line(text: object, limit: int = 300) -> str:
    """Collapse whitespace (torch errors span lines) and shorten, so a verdict is always one line."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


class Verdict:
    """A checker's result: true when the answer is right, with the line it printed.

    In a notebook a bare ``check_x(answer)`` at the end of a cell shows only the printed line:
    the verdict itself displays nothing more (no ``True``/``False`` under the message).
    """

    __slots__ = ("ok", "message")

    def __init__(self, ok: bool, message: str) -> None:
        self.ok, self.message = bool(ok), message

    def __bool__(self) -> bool:
        return self.ok

    def __eq__(self, other: object) -> bool:
        return self.ok == other

    def __hash__(self) -> int:
        return hash(self.ok)

    def __repr__(self) -> str:
        return f"Verdict({self.ok}, {self.message!r})"

    def _ipython_display_(self) -> None:  # IPython calls this instead of showing the repr
        pass


def _verdict(ok: bool, good: str, bad: str) -> Verdict:
    message = _one_line(("Correct: " + good) if ok else ("Not yet: " + bad), limit=500)
    print(message)
    return Verdict(ok, message)


def _checker(body: Callable[P, str]) -> Callable[P, Verdict]:
    """Turn ``body`` (returns the success text, raises :class:`_NotYet` to reject) into a checker
    that prints one verdict line, returns a bool, and never raises."""

    @functools.wraps(body)
    def check(*args: P.args, **kwargs: P.kwargs) -> Verdict:
        try:
            good = body(*args, **kwargs)
        except _NotYet as reason:
            return _verdict(False, "", str(reason))
        except Exception as exc:  # anything unforeseen still ends as one line, never a traceback
            return _verdict(False, "", f"your answer could not be checked ({_exc_text(exc)}).")
        return _verdict(True, good, "")

    return check


def _exc_text(exc: BaseException) -> str:
    message = _one_line(exc, limit=160)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _name(fn: object) -> str:
    """How to name the learner's function or model in a message: `convolve`, `MyLeNet5`, or `fn`."""
    name = getattr(fn, "__name__", None)
    if name is None and isinstance(fn, nn.Module):
        name = type(fn).__name__
    return "fn" if not name or name == "<lambda>" else name


def _stub(fn: object, returned: object = _NO_VALUE) -> _NotYet:
    if returned is _NO_VALUE:
        return _NotYet(f"`{_name(fn)}` is still the stub: write its body, then run this cell again.")
    return _NotYet(f"`{_name(fn)}` is still the stub (it returns {returned!r}): write its body and "
                   "`return` the result, then run this cell again.")


def _require_function(fn: object, example: str) -> None:
    """Reject what is not a function: a stub left as ``...``, or a function called instead of passed."""
    if fn is None or fn is Ellipsis:
        raise _NotYet(f"the answer is still the stub ({fn!r}): write the function, then run this cell again.")
    if not callable(fn):
        raise _NotYet(f"expected your function itself, got {_one_line(repr(fn), 40)} ({type(fn).__name__}): "
                      f"pass the function without calling it, as in {example}.")


def _call(fn: Callable[..., Any], call: str, *args: Any, none_is_stub: bool = True, **kwargs: Any) -> Any:
    """Run the learner's ``fn``; turn a stub or an exception into a :class:`_NotYet` naming ``call``."""
    try:
        out = fn(*args, **kwargs)
    except NotImplementedError:
        raise _stub(fn) from None
    except (Exception, SystemExit) as exc:
        raise _NotYet(f"{call} raised {_exc_text(exc)}.") from None
    if none_is_stub and (out is None or out is Ellipsis):
        raise _stub(fn, out)
    return out


def _number(out: object, call: str) -> float:
    """A learner's scalar answer as a float: a Python or NumPy number or a one-element tensor."""
    if isinstance(out, torch.Tensor) and out.numel() == 1:
        return float(out.detach().cpu().item())
    if isinstance(out, (int, float, np.number)) and not isinstance(out, bool):
        return float(out)
    raise _NotYet(f"{call} returned {_one_line(repr(out), 60)} ({type(out).__name__}); expected a number.")


def _answer(answer: object, what: str) -> float:
    """A hand-computed answer (a number the learner typed) as a float, or a friendly rejection."""
    if answer is None or answer is Ellipsis:
        raise _NotYet(f"the answer is still the stub ({answer!r}): replace it with your {what}.")
    try:
        return _number(answer, "")
    except _NotYet:
        raise _NotYet(f"your answer {_one_line(repr(answer), 40)} is not a number: give the {what} as an "
                      "integer, e.g. 42.") from None


def _count(out: object, call: str) -> int:
    """A learner's count as an int; a float like 156.0 is accepted, 156.5 is not."""
    value = _number(out, call)
    if value != int(value):
        raise _NotYet(f"{call} returned {value}, which is not a whole number; counts are integers "
                      "(use // rather than / when you divide).")
    return int(value)


def _array(out: object, call: str) -> np.ndarray:
    """A learner's array answer (NumPy array, tensor or nested lists) as float64 NumPy."""
    try:
        if isinstance(out, torch.Tensor):
            return out.detach().cpu().double().numpy()
        return np.asarray(out, dtype=np.float64)
    except Exception:
        raise _NotYet(f"{call} returned a {type(out).__name__}, not an array of numbers.") from None


def _tensor(out: object, call: str) -> torch.Tensor:
    """A learner's tensor answer as a float64 CPU tensor (a NumPy array is accepted too)."""
    return torch.from_numpy(_array(out, call))


def _same(got: Any, expected: Any, tol: float = 1e-5) -> bool:
    """Equal shapes and values within ``tol``; lists are compared item by item (their arrays may differ in shape)."""
    if isinstance(got, (list, tuple)):
        return len(got) == len(expected) and all(_same(g, e, tol) for g, e in zip(got, expected))
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=tol, atol=tol))


def _first_difference(got: list[Any], expected: list[Any], exact: bool = False) -> int:
    """The index of the first case where ``got`` differs from ``expected`` (exactly, or beyond
    :func:`_same`'s tolerance); the caller has already found that one does."""
    return next(i for i, (g, e) in enumerate(zip(got, expected)) if (g != e if exact else not _same(g, e)))


def _matching(got: list[Any], candidates: list[tuple[list[Any], str]], tol: float = 1e-5) -> str | None:
    """The message of the first wrong answer that reproduces every one of the learner's outputs."""
    for outputs, message in candidates:
        if all(_same(g, o, tol) for g, o in zip(got, outputs, strict=True)):
            return message
    return None


def _reference(build: Callable[..., nn.Module], *args: Any, seed: int = 0, **kwargs: Any) -> nn.Module:
    """Build a reference module without touching the learner's random state (its init draws numbers)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build(*args, **kwargs)


def _shape(a: np.ndarray | torch.Tensor) -> str:
    return str(tuple(a.shape))


# --- the PyTorch basics chapter ----------------------------------------------------------------


@_checker
def check_gradient(grad_fn: Callable[[float, float, float], float]) -> str:
    """Check ``grad_fn(w, x, y)``: d/dw of (w*x - y)**2 written by hand, against autograd.

    Used in the PyTorch basics chapter. The answer may be a float or a 0-d tensor.
    """
    _require_function(grad_fn, "check_gradient(grad_fn)")
    cases = [(1.5, -2.0, 0.5), (0.5, 3.0, -1.0), (-1.0, 0.5, 2.0), (2.0, -1.5, -4.0)]
    got, expected = [], []
    for w, x, y in cases:
        call = f"{_name(grad_fn)}({w}, {x}, {y})"
        got.append(_number(_call(grad_fn, call, w, x, y), call))
        w_t = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        ((w_t * x - y) ** 2).backward()
        expected.append(w_t.grad.item())
    if _same(got, expected):
        return f"your derivative agrees with autograd on all {len(cases)} cases."
    residual = [w * x - y for w, x, y in cases]
    diagnosis = _matching(got, [
        ([-g for g in expected], "wrong sign: the derivative is 2 (w*x - y) x; check you wrote w*x - y, not y - w*x."),
        ([g / 2 for g in expected], "missing the factor 2: the derivative of u**2 is 2u (times du/dw)."),
        ([2 * r for r in residual],
         "forgot the factor x: by the chain rule, d(w*x - y)/dw = x multiplies 2 (w*x - y)."),
        (residual, "forgot both the factor 2 and the factor x: the derivative is 2 (w*x - y) x."),
        ([2 * r * w for r, (w, _, _) in zip(residual, cases)], "that is d/dx (it has w where x belongs); "
         "differentiate with respect to w: 2 (w*x - y) x."),
    ])
    if diagnosis:
        raise _NotYet(diagnosis)
    i = _first_difference(got, expected)
    w, x, y = cases[i]
    raise _NotYet(f"{_name(grad_fn)}({w}, {x}, {y}) returned {got[i]:g}, autograd gives {expected[i]:g}; "
                  "the derivative is 2 (w*x - y) x.")


# --- the input chapter -------------------------------------------------------------------------


def _digits(n: int, seed: int) -> torch.Tensor:
    """``n`` raw MNIST-like uint8 images (n, 28, 28): black background with a random patch of ink."""
    g = torch.Generator().manual_seed(seed)
    images = torch.zeros(n, 28, 28, dtype=torch.uint8)
    images[:, 4:24, 6:22] = torch.randint(0, 256, (n, 20, 16), generator=g, dtype=torch.uint8)
    return images


@_checker
def check_normalise(fn: Callable[[torch.Tensor], torch.Tensor]) -> str:
    """Check ``fn(images)``: raw uint8 MNIST (N, 28, 28) -> LeNet-5 input (N, 1, 32, 32) float.

    The reference is :func:`lenet_course.data.prepare_images`. Used in the input chapter.
    """
    _require_function(fn, "check_normalise(normalise)")
    mean, std, pad = inputs.MNIST_MEAN, inputs.MNIST_STD, inputs.PAD
    for n, seed in ((3, 0), (1, 1), (5, 2)):
        images = _digits(n, seed)
        call = f"{_name(fn)}(uint8 images of shape {_shape(images)})"
        out = _call(fn, call, images.clone())
        if isinstance(out, torch.Tensor) and not torch.is_floating_point(out):
            raise _NotYet(f"{call} returned {out.dtype} values; LeNet-5 needs floats: convert with .float() "
                          "before dividing by 255.")
        got = _tensor(out, call)
        expected = data.prepare_images(images).double()
        side = data.MNIST_SIZE
        if tuple(got.shape) in ((n, side, side), (n, 1, side, side)):
            raise _NotYet(f"{call} has shape {_shape(got)}: no padding. Pad {pad} pixels of background on "
                          f"each side to get LeNet-5's 32x32 field.")
        if tuple(got.shape) == tuple(expected.shape[:1] + expected.shape[2:]):
            raise _NotYet(f"{call} has shape {_shape(got)}: the channel dimension is missing; add it with "
                          ".unsqueeze(1) to get (N, 1, 32, 32).")
        if got.shape != expected.shape:
            raise _NotYet(f"{call} has shape {_shape(got)}, expected {_shape(expected)}.")
        if _same(got, expected):
            continue
        raw = F.pad(images.double().unsqueeze(1), (pad,) * 4)  # padded with black (0), not yet scaled
        inside = (..., slice(pad, pad + side), slice(pad, pad + side))
        border = torch.ones_like(expected, dtype=torch.bool)
        border[inside] = False
        if _same(got[inside], expected[inside]):
            value = got[border].mean().item()
            if abs(value) < 1e-6:
                raise _NotYet("the border is 0: you padded after normalising, with 0 instead of the background "
                              f"({inputs.BACKGROUND:.4f}); pad the raw pixels first (0 is black there), or pad with "
                              "lenet_course.inputs.BACKGROUND.")
            raise _NotYet(f"the digit is right but the border is {value:.4f}, not the background "
                          f"({inputs.BACKGROUND:.4f}): pad with black before normalising.")
        diagnosis = _matching([got], [
            ([(raw - mean) / std], "forgot to divide by 255: scale the pixels to [0, 1] before subtracting the mean."),
            ([raw / 255], "forgot to normalise: subtract MNIST_MEAN and divide by MNIST_STD after dividing by 255."),
            ([raw / 255 / std], "forgot to subtract the mean (MNIST_MEAN) before dividing by the std."),
            ([raw / 255 - mean], "forgot to divide by the std (MNIST_STD) after subtracting the mean."),
            ([(raw / 255 - std) / mean], "swapped the mean and the std: subtract MNIST_MEAN, divide by MNIST_STD."),
        ])
        raise _NotYet(diagnosis or f"{call} differs from prepare_images by up to "
                                   f"{(got - expected).abs().max().item():.3g}; pad, divide by 255, then subtract "
                                   "MNIST_MEAN and divide by MNIST_STD.")
    return "your images match data.prepare_images: padded to 32x32 and normalised."


# --- the C1 chapter ----------------------------------------------------------------------------


def _conv2d(image: np.ndarray, kernel: np.ndarray, bias: float) -> np.ndarray:
    """One map of a stride-1 convolution (cross-correlation, as every CNN library computes it)."""
    out = F.conv2d(torch.from_numpy(image)[None, None], torch.from_numpy(kernel)[None, None],
                   torch.tensor([bias], dtype=torch.float64))
    return out[0, 0].numpy()


@_checker
def check_convolve(fn: Callable[[np.ndarray, np.ndarray, float], np.ndarray]) -> str:
    """Check ``fn(image, kernel, bias)``: (H, W) and (k, k) NumPy arrays and a float -> the
    (H-k+1, W-k+1) feature map, against ``torch.nn.functional.conv2d``. Used in the C1 chapter."""
    _require_function(fn, "check_convolve(convolve)")
    rng = np.random.default_rng(0)
    cases = [(rng.standard_normal((6, 6)), rng.standard_normal((3, 3)), 0.5),
             (rng.standard_normal((7, 9)), rng.standard_normal((3, 3)), -1.25),  # odd, wider than tall
             (rng.standard_normal((11, 8)), rng.standard_normal((5, 5)), 2.0),  # taller than wide
             (rng.standard_normal((5, 5)), rng.standard_normal((5, 5)), 0.75)]  # one window only
    got, expected = [], []
    for image, kernel, bias in cases:
        k = kernel.shape[0]
        call = f"{_name(fn)}(image {image.shape}, kernel {kernel.shape}, bias={bias})"
        out = _array(_call(fn, call, image.copy(), kernel.copy(), bias), call)
        h, w = image.shape[0] - k + 1, image.shape[1] - k + 1
        if out.shape != (h, w):
            if out.shape in ((h - 1, w - 1), (h + 1, w + 1)):
                cause = "off by one: the last window starts at row H - k, so there are H - k + 1 rows"
            elif out.shape == image.shape:
                cause = "as large as the image: without padding each side shrinks by k - 1"
            elif out.shape == (w, h):
                cause = "rows and columns swapped: rows come from H (image.shape[0])"
            else:
                cause = "a stride-1 convolution without padding gives (H - k + 1, W - k + 1)"
            raise _NotYet(f"{call} has shape {out.shape}, expected {(h, w)}: {cause}.")
        got.append(out)
        expected.append(_conv2d(image, kernel, bias))
    if _same(got, expected, 1e-4):
        return f"your convolution matches F.conv2d on all {len(cases)} cases, non-square ones included."
    flipped = [_conv2d(image, kernel[::-1, ::-1].copy(), bias) for image, kernel, bias in cases]
    diagnosis = _matching(got, [
        ([e - b for e, (_, _, b) in zip(expected, cases)], "every value is off by exactly the bias: "
         "forgot to add the bias."),
        (flipped, "flipped the kernel: that is the textbook convolution, but CNN layers (and F.conv2d) "
         "slide the kernel as it is (cross-correlation)."),
        ([f - b for f, (_, _, b) in zip(flipped, cases)], "flipped the kernel and forgot the bias: slide the kernel "
         "as it is and add the bias."),
        ([e + b for e, (_, _, b) in zip(expected, cases)], "the bias is added twice (or once per window row): "
         "add it once to each output value."),
    ], tol=1e-4)
    raise _NotYet(diagnosis or "the values differ from F.conv2d: each output is sum(image window * kernel) + bias, "
                               "with the window's top-left corner at the output position.")


# --- the S2 chapter ----------------------------------------------------------------------------


@_checker
def check_max_pool(fn: Callable[[np.ndarray], np.ndarray]) -> str:
    """Check ``fn(fmap)``: (H, W) NumPy with even H and W -> (H/2, W/2), the maximum of each 2x2 block,
    against ``F.max_pool2d``. Used in the S2 chapter."""
    _require_function(fn, "check_max_pool(max_pool)")
    rng = np.random.default_rng(1)
    cases = [rng.standard_normal((4, 4)), rng.standard_normal((6, 8)), rng.standard_normal((10, 4)),
             -np.abs(rng.standard_normal((4, 6))) - 0.1, rng.standard_normal((2, 2))]  # all negative; one block
    got, expected, pooled = [], [], []
    for fmap in cases:
        call = f"{_name(fn)}(fmap of shape {fmap.shape})"
        out = _array(_call(fn, call, fmap.copy()), call)
        h, w = fmap.shape[0] // 2, fmap.shape[1] // 2
        if out.shape != (h, w):
            if out.shape == (fmap.shape[0] - 1, fmap.shape[1] - 1):
                cause = "that is stride 1 (overlapping windows); move the window 2 pixels at a time"
            elif out.shape == (w, h):
                cause = "transposed: the rows of the output come from the rows of fmap"
            elif out.shape == fmap.shape:
                cause = "the map did not shrink: each 2x2 block gives one value"
            else:
                cause = "non-overlapping 2x2 blocks halve each side"
            raise _NotYet(f"{call} has shape {out.shape}, expected {(h, w)}: {cause}.")
        got.append(out)
        t = torch.from_numpy(fmap)[None, None]
        expected.append(F.max_pool2d(t, 2)[0, 0].numpy())
        pooled.append(t)
    if _same(got, expected, 1e-6):
        return f"your pooling matches F.max_pool2d on all {len(cases)} maps, non-square ones included."
    diagnosis = _matching(got, [
        ([F.avg_pool2d(t, 2)[0, 0].numpy() for t in pooled], "averaged instead of taking the maximum: "
         "that is average pooling; S2 keeps the largest value of each block (.max())."),
        ([4 * F.avg_pool2d(t, 2)[0, 0].numpy() for t in pooled], "summed each block (the 1998 subsampling); "
         "this S2 takes the maximum of each block."),
        ([-F.max_pool2d(-t, 2)[0, 0].numpy() for t in pooled], "took the minimum: S2 keeps the largest value."),
        ([e.T for e in expected], "transposed: output[i, j] is the block at rows 2i..2i+1 and columns 2j..2j+1."),
        ([np.maximum(e, 0.0) for e in expected], "negative maps come out as 0: the running maximum started at 0; "
         "start it at the block's first value (or use .max())."),
    ], tol=1e-6)
    raise _NotYet(diagnosis or "the values differ from F.max_pool2d: output[i, j] is the largest of "
                               "fmap[2i:2i+2, 2j:2j+2].")


# --- the C3 chapter ----------------------------------------------------------------------------


@_checker
def check_c3_parameters(fn: Callable[[tuple[tuple[int, ...], ...]], int]) -> str:
    """Check ``fn(table)``: trainable parameters of a 5x5 convolution wired by a connection table like
    :data:`lenet_course.classic.C3_TABLE` (map ``o`` reads the input maps ``table[o]``).

    The reference is the parameter count of :class:`lenet_course.classic.PartialConv2d` built from
    the same table. Used in the C3 chapter.
    """
    _require_function(fn, "check_c3_parameters(c3_parameters)")
    full = tuple(tuple(range(6)) for _ in range(16))
    tables = [classic.C3_TABLE, full, ((0,),), ((0, 1), (1, 2, 3)), ((2,), (0, 1, 2, 3, 4, 5), (1, 4))]
    k2 = 5 * 5
    got, expected = [], []
    for table in tables:
        label = "C3_TABLE" if table == classic.C3_TABLE else "the full table" if table == full else repr(table)
        call = f"{_name(fn)}({label})"
        got.append(_count(_call(fn, call, copy.deepcopy(table)), call))
        in_maps = 1 + max(i for inputs in table for i in inputs)
        expected.append(shapes.count_parameters(_reference(classic.PartialConv2d, table, in_maps=in_maps)))
    if got == expected:
        return f"{got[0]:,} parameters for C3_TABLE, and right on all {len(tables)} tables."
    reads = [[len(inputs) for inputs in table] for table in tables]
    widest = [max(r) for r in reads]
    diagnosis = _matching(got, [
        ([sum(r) * k2 for r in reads], "forgot the bias: each output map has one bias, + 1 per map."),
        ([len(r) * (w * k2 + 1) for r, w in zip(reads, widest)], "counted every map as fully connected: "
         "map o has a 5x5 kernel only for each input map listed in table[o]."),
        ([len(r) * (6 * k2 + 1) for r in reads], "counted every map as reading all 6 input maps: "
         "map o has a 5x5 kernel only for each input map listed in table[o]."),
        ([sum(r) * (k2 + 1) for r in reads], "one bias per connection: each output map has one bias, "
         "however many input maps it reads."),
        ([sum(r) + len(r) for r in reads], "one weight per connection: each connection is a whole 5x5 kernel "
         "(25 weights)."),
    ])
    i = _first_difference(got, expected, exact=True)
    raise _NotYet(diagnosis or f"{got[i]:,} for table {tables[i]!r}, expected {expected[i]:,}: "
                               "add len(inputs) * 25 + 1 over the maps.")


# --- the S4 chapter ----------------------------------------------------------------------------


@_checker
def check_flatten_size(fn: Callable[[int], int]) -> str:
    """Check ``fn(input_size)``: LeNet-5's flatten length for a square input of that size. Used in the S4 chapter."""
    _require_function(fn, "check_flatten_size(flatten_size)")
    sizes = (32, 28, 36, 33, 64, 100)  # 33: pooling an odd side rounds down
    got = [_number(_call(fn, f"{_name(fn)}({n})", n), f"{_name(fn)}({n})") for n in sizes]
    expected = [flatten_features(n) for n in sizes]
    if got == expected:
        return f"your function gives the flatten length for all {len(sizes)} input sizes tried."
    sides = [int((e // 16) ** 0.5) for e in expected]
    diagnosis = _matching(got, [
        ([expected[0]] * len(sizes), f"returned {expected[0]} for every size: compute it from input_size "
         "(C1, S2, C3, S4), don't type it in."),
        ([s * s for s in sides], "forgot to multiply by the 16 maps of S4."),
        ([6 * s * s for s in sides], "multiplied by 6 maps: S4 has the 16 maps of C3."),
    ])
    i = _first_difference(got, expected, exact=True)
    if diagnosis is None and got[i] != int(got[i]):
        diagnosis = f"{_name(fn)}({sizes[i]}) returned {got[i]}: use // when halving (pooling rounds down)."
    raise _NotYet(diagnosis or f"{_name(fn)}({sizes[i]}) returned {got[i]:g}, expected {expected[i]}; chain C1, S2, "
                               "C3 and S4 and multiply by the 16 maps.")


# --- the F5, F6 and output chapter (and the training loop) -------------------------------------


@_checker
def check_softmax(fn: Callable[[torch.Tensor], torch.Tensor]) -> str:
    """Check ``fn(logits)``: (N, 10) scores -> probabilities along dim 1, against ``torch.softmax``,
    large logits included. Used in the F5/F6/output chapter."""
    _require_function(fn, "check_softmax(softmax)")
    g = torch.Generator().manual_seed(2)
    big = torch.zeros(2, 10)
    big[0, 3], big[1] = 1000.0, torch.linspace(-1000.0, -990.0, 10)
    cases = [("(4, 10) logits", 3 * torch.randn(4, 10, generator=g)),
             ("(1, 10) logits", torch.randn(1, 10, generator=g)),
             ("(3, 10) logits near 1000", 1000 + 5 * torch.randn(3, 10, generator=g)),
             ("(2, 10) logits of +-1000", big)]
    for label, logits in cases:
        call = f"{_name(fn)}({label})"
        got = _tensor(_call(fn, call, logits.clone()), call)
        x = logits.double()
        expected = torch.softmax(x, dim=1)
        if got.shape != expected.shape:
            raise _NotYet(f"{call} has shape {_shape(got)}, expected {_shape(expected)}: one probability per "
                          "class for every row.")
        if _same(got, expected, 1e-5):
            continue
        if not torch.isfinite(got).all():
            raise _NotYet(f"{call} gave nan or inf: exp overflows for large logits; subtract each row's maximum "
                          "first (softmax does not change when every logit of a row moves by the same amount).")
        diagnosis = _matching([got], [
            ([torch.softmax(x, dim=0)], "wrong axis: the columns sum to 1; normalise along dim=1 (one row per image)."),
            ([torch.exp(x)], "forgot to normalise: divide each row's exponentials by their sum."),
            ([torch.exp(x - x.amax(dim=1, keepdim=True))], "forgot to normalise: divide each row's exponentials "
             "by their sum."),
            ([torch.exp(x) / torch.exp(x).sum()], "normalised over the whole batch: sum along dim=1 with "
             "keepdim=True, so each row sums to 1."),
            ([torch.log_softmax(x, dim=1)], "returned log-probabilities (log_softmax); the question asks for "
             "probabilities."),
        ])
        raise _NotYet(diagnosis or f"{call} differs from torch.softmax(logits, dim=1) by up to "
                                   f"{(got - expected).abs().max().item():.3g}.")
    return "your softmax matches torch.softmax, large logits included."


# --- the innovations chapter -------------------------------------------------------------------


_EXTRACTOR = ("c1", "c3")  # LeNet5's layers with weights before the flatten: the feature extractor


@_checker
def check_freeze_features(fn: Callable[[nn.Module], Any]) -> str:
    """Check ``fn(model)``: turns off the gradients of a LeNet5's feature extractor (C1 and C3), leaves the
    classifier (F5, F6, output) trainable and its weights untouched, and returns the parameters still to train.
    Used in the innovations chapter."""
    _require_function(fn, "check_freeze_features(freeze_features)")
    model = _reference(LeNet5, seed=7)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    call = f"{_name(fn)}(LeNet5())"
    out = _call(fn, call, model)
    try:
        returned = list(out)
    except TypeError:
        raise _NotYet(f"{call} returned {_one_line(repr(out), 40)} ({type(out).__name__}); return the parameters "
                      "that still train, e.g. [p for p in model.parameters() if p.requires_grad].") from None
    named = dict(model.named_parameters())
    trains = [name for name in named if name.split(".")[0] in _EXTRACTOR and named[name].requires_grad]
    if trains:
        on_module = any(getattr(getattr(model, name), "requires_grad", None) is False for name in _EXTRACTOR)
        hint = ("; model.c1.requires_grad = False only adds an attribute to the layer, which autograd never reads"
                if on_module else "")
        raise _NotYet(f"{', '.join(trains)} still require a gradient: turn it off for every parameter of c1 and "
                      f"c3 (p.requires_grad_(False)){hint}.")
    frozen = [name for name in named if name.split(".")[0] not in _EXTRACTOR and not named[name].requires_grad]
    if frozen:
        raise _NotYet(f"{', '.join(frozen)} no longer require a gradient: freeze only the feature extractor "
                      "(c1 and c3); the classifier has to keep learning.")
    changed = [name for name, p in named.items() if not torch.equal(p.detach(), before[name])]
    if changed:
        raise _NotYet(f"{', '.join(changed)} changed: freezing only turns gradients off; leave the weights as "
                      "they are.")
    ids = {id(p) for p in returned}
    expected = {id(p) for p in named.values() if p.requires_grad}
    if ids != expected:
        extra = [name for name, p in named.items() if id(p) in ids and not p.requires_grad]
        cause = (f"it includes frozen ones ({', '.join(extra)}); keep only those with requires_grad"
                 if extra else "give the model's own parameter tensors of f5, f6 and output, all six of them")
        raise _NotYet(f"{call} should return the parameters that still train: {cause}.")
    count = sum(p.numel() for p in returned)
    return f"c1 and c3 frozen; f5, f6 and output ({count:,} parameters) left to train."


# --- the receptive fields chapter --------------------------------------------------------------


def _lenet_windows() -> list[tuple[str, int, int]]:
    """(name, kernel, stride) of LeNet-5's convolution and pooling layers, read off the model."""
    windows = []
    for name, module in _reference(LeNet5).named_children():
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
            kernel, stride = shapes.side_of(module.kernel_size), shapes.side_of(module.stride)
            windows.append((name, kernel, stride))
    return windows


def _field_size(layers: list[tuple[int, int]], jump_first: bool = False, use_jump: bool = True) -> int:
    """The receptive-field rule (size += (k - 1) * jump; jump *= s), and two usual slips of it."""
    size, jump = 1, 1
    for k, s in layers:
        if jump_first:
            jump *= s
        size += (k - 1) * (jump if use_jump else 1)
        if not jump_first:
            jump *= s
    return size


@_checker
def check_receptive_field_size(fn: Callable[[list[tuple[int, int]]], int]) -> str:
    """Check ``fn(layers)``: a list of (kernel, stride) pairs from the input up -> the side, in input pixels,
    of one top unit's receptive field. LeNet-5's stacks are checked against
    :func:`lenet_course.shapes.receptive_fields`. Used in the receptive fields chapter."""
    _require_function(fn, "check_receptive_field_size(receptive_field_size)")
    windows = _lenet_windows()
    fields = {f.name: f.size for f in shapes.receptive_fields(_reference(LeNet5))}
    stacks = [([(k, s) for _, k, s in windows[: i + 1]], fields[windows[i][0]]) for i in range(len(windows))]
    for layers in ([(3, 1), (3, 1), (3, 1)], [(7, 2), (3, 2), (3, 1)], [(2, 2), (2, 2), (2, 2)], [(1, 1)]):
        stacks.append((layers, _field_size(layers)))
    got = []
    for layers, _ in stacks:
        call = f"{_name(fn)}({layers})"
        got.append(_count(_call(fn, call, list(layers)), call))
    expected = [size for _, size in stacks]
    if got == expected:
        return f"your rule gives every stack tried, LeNet-5's C1 to S4 ({', '.join(map(str, expected[:4]))}) included."
    diagnosis = _matching(got, [
        ([_field_size(layers, use_jump=False) for layers, _ in stacks], "forgot to multiply the jump by the stride: "
         "above a stride-2 layer each step of a kernel moves 2 (then 4, ...) input pixels."),
        ([_field_size(layers, jump_first=True) for layers, _ in stacks], "multiplied the jump before growing the "
         "size: a layer's own stride only spreads the layers above it."),
        ([e - 1 for e in expected], "off by one (one short): start from size 1, a single pixel."),
        ([e + 1 for e in expected],
         "off by one (one too many): start from size 1 and add (k - 1) x jump, not k x jump."),
    ])
    i = _first_difference(got, expected, exact=True)
    raise _NotYet(diagnosis or f"{_name(fn)}({stacks[i][0]}) returned {got[i]}, expected {expected[i]}: "
                               "size += (k - 1) * jump, then jump *= s.")


# --- the feature hierarchy chapter --------------------------------------------------------------


def _clusters(g: torch.Generator, centres: torch.Tensor, n: int, spread: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` points scattered around ``centres`` (one row per class), and their labels."""
    labels = torch.randint(0, len(centres), (n,), generator=g)
    return centres[labels] + spread * torch.randn(n, centres.shape[1], generator=g), labels


@_checker
def check_nearest_neighbour(fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], float]) -> str:
    """Check ``fn(Z_ref, y_ref, Z, y)``: the fraction of the rows of ``Z`` whose nearest row of ``Z_ref``
    (Euclidean distance) has the same label, against ``torch.cdist``. Used in the feature hierarchy chapter."""
    _require_function(fn, "check_nearest_neighbour(nearest_accuracy)")
    g = torch.Generator().manual_seed(8)
    cases = []
    for label, classes, dim, n_ref, n, spread in [("2-D, 3 classes", 3, 2, 30, 20, 1.5),
                                                   ("5-D, 10 classes", 10, 5, 200, 100, 2.0),
                                                   ("400-D, 10 classes", 10, 400, 60, 40, 4.0)]:
        centres = 3 * torch.randn(classes, dim, generator=g)
        Z_ref, y_ref = _clusters(g, centres, n_ref, spread)
        Z, y = _clusters(g, centres, n, spread)
        cases.append((label, Z_ref, y_ref, Z, y))
    got, expected, farthest, by_mean = [], [], [], []
    for label, Z_ref, y_ref, Z, y in cases:
        call = f"{_name(fn)}({label})"
        got.append(_number(_call(fn, call, Z_ref.clone(), y_ref.clone(), Z.clone(), y.clone()), call))
        distances = torch.cdist(Z.double(), Z_ref.double())  # (N, M)
        expected.append((y_ref[distances.argmin(dim=1)] == y).double().mean().item())
        farthest.append((y_ref[distances.argmax(dim=1)] == y).double().mean().item())
        means = torch.stack([Z_ref[y_ref == k].double().mean(dim=0) for k in range(int(y_ref.max()) + 1)])
        by_mean.append((torch.cdist(Z.double(), means).argmin(dim=1) == y).double().mean().item())
    if _same(got, expected, 1e-6):
        return f"your accuracies match the nearest neighbour's on all {len(cases)} cases."
    counts = [round(e * len(c[3])) for e, c in zip(expected, cases)]
    diagnosis = _matching(got, [
        ([100 * e for e in expected], "a percentage: return the fraction of correct rows, between 0 and 1."),
        (counts, "a count of correct rows: divide by the number of rows, so the answer is a fraction."),
        (farthest, "each row took the label of its farthest reference: the nearest is the argmin of the "
         "distances, not the argmax."),
        (by_mean, "that is the nearest class mean: compare each row with every reference digit, not with the "
         "class averages."),
    ], tol=1e-6)
    i = _first_difference(got, expected)
    raise _NotYet(diagnosis or f"{_name(fn)}({cases[i][0]}) gave {got[i]:.4f}, the nearest neighbour gives "
                               f"{expected[i]:.4f}: for each row of Z, find the row of Z_ref at the smallest "
                               "distance and compare its label with y.")


# --- the weight sharing chapter ----------------------------------------------------------------


@_checker
def check_shared_parameters(fn: Callable[[int, int, int, int, bool], int]) -> str:
    """Check ``fn(in_maps, out_maps, kernel_size, out_size, shared)``: a convolution layer's parameters with
    weight sharing (one kernel and bias per output map) and without (every output position has its own).
    Used in the weight sharing chapter."""
    _require_function(fn, "check_shared_parameters(shared_parameters)")
    layers = [(1, 6, 5, 28), (6, 16, 5, 10), (3, 4, 3, 7), (2, 5, 1, 9)]
    cases = [(*layer, shared) for layer in layers for shared in (True, False)]
    got = []
    for case in cases:
        call = f"{_name(fn)}{case}"
        got.append(_count(_call(fn, call, *case), call))
    shared_count = [shapes.conv_parameters(i, o, k) for i, o, k, _, _ in cases]
    local_count = [shapes.conv_connections(i, o, k, n) for i, o, k, n, _ in cases]  # one weight per connection
    expected = [s if sh else u for s, u, (*_, sh) in zip(shared_count, local_count, cases)]
    if got == expected:
        return f"right with and without sharing: C1 has {expected[0]:,} parameters shared, {expected[1]:,} not."
    weights = [o * i * k * k for i, o, k, _, _ in cases]
    positions = [n * n for *_, n, _ in cases]
    diagnosis = _matching(got, [
        ([w if sh else w * p for w, p, (*_, sh) in zip(weights, positions, cases)], "forgot the bias: "
         "+ 1 per kernel (per output map when shared, per output unit when not)."),
        (shared_count, "ignored `shared`: without sharing, every one of the out_size x out_size positions "
         "has its own kernel and bias."),
        (local_count, "ignored `shared`: with sharing, one kernel and one bias serve every position of a map."),
        ([s if sh else w * p + o for s, w, p, (_, o, _, _, sh) in zip(shared_count, weights, positions, cases)],
         "without sharing each position also has its own bias: out_maps x out_size**2 x (in_maps x k x k + 1)."),
    ])
    i = _first_difference(got, expected, exact=True)
    raise _NotYet(diagnosis or f"{_name(fn)}{cases[i]} returned {got[i]:,}, expected {expected[i]:,}.")


# --- the training-loop chapter -----------------------------------------------------------------


def _parameters(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _same_parameters(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.allclose(x, y, rtol=1e-5, atol=1e-6) for x, y in zip(a, b, strict=True))


def _steps_without_zero_grad(start: nn.Module, X: torch.Tensor, y: torch.Tensor, steps: int) -> nn.Module:
    """A copy of ``start`` after ``steps`` SGD steps whose gradients were never zeroed (they add up)."""
    model = copy.deepcopy(start)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        F.cross_entropy(model(X), y).backward()
        optimizer.step()
    return model


@_checker
def check_train_step(fn: Callable[[nn.Module, torch.optim.Optimizer, torch.Tensor, torch.Tensor], float]) -> str:
    """Check ``fn(model, optimizer, X, y)``: one training step with cross-entropy, returning the batch's loss.

    Two calls on a LeNet5 with ``SGD(lr=0.1)`` are compared with reference steps on an identical
    copy. The loss may come back as a float or a 0-d tensor (``loss.item()`` is the habit to keep).
    Used in the training-loop and training-fast chapters.
    """
    _require_function(fn, "check_train_step(train_step)")
    start = _reference(LeNet5)
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(8, 1, 32, 32, generator=g), torch.randint(0, 10, (8,), generator=g)
    model, reference = copy.deepcopy(start), copy.deepcopy(start)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    ref_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    tensor_loss = False
    for step in (1, 2):
        before = _parameters(model)
        call = f"{_name(fn)}(model, optimizer, X, y) (call {step})"
        out = _call(fn, call, model, optimizer, X.clone(), y.clone(), none_is_stub=False)
        ref_optimizer.zero_grad()
        ref_loss = F.cross_entropy(reference(X), y)
        ref_loss.backward()
        ref_optimizer.step()
        after = _parameters(model)
        unchanged = _same_parameters(before, after)
        if out is None or out is Ellipsis:
            if step == 1 and unchanged:
                raise _stub(fn, out)
            raise _NotYet(f"{call} returned {out!r}: end the step with `return loss.item()`.")
        if unchanged:
            if all(p.grad is None or not p.grad.any() for p in model.parameters()):
                raise _NotYet("the weights did not change and there are no gradients: forgot loss.backward() "
                              "(so optimizer.step() had nothing to apply).")
            raise _NotYet("the weights did not change although the gradients are there: forgot optimizer.step().")
        if not _same_parameters(after, _parameters(reference)):
            if step == 2 and _same_parameters(after, _parameters(_steps_without_zero_grad(start, X, y, 2))):
                raise _NotYet("the first step is right but the second moved the weights too far: forgot "
                              "optimizer.zero_grad(), so the gradients of both batches added up.")
            raise _NotYet(f"after {call} the weights differ from one SGD step on F.cross_entropy(model(X), y): "
                          "zero the gradients, compute the loss, backward(), step().")
        tensor_loss = tensor_loss or isinstance(out, torch.Tensor)
        loss = _number(out, call)
        if abs(loss - ref_loss.item()) > 1e-5 * max(1.0, abs(ref_loss.item())):
            raise _NotYet(f"the step is right but {call} returned {loss:.6g}, not the batch's loss "
                          f"{ref_loss.item():.6g}: return the cross-entropy computed before the step.")
    tip = " (tip: return loss.item(), a plain float, so the loss keeps no graph alive)" if tensor_loss else ""
    return f"two steps match the reference SGD steps, and the losses are right{tip}."


# --- the distortions chapter -------------------------------------------------------------------


@_checker
def check_shift(fn: Callable[[torch.Tensor, int, int], torch.Tensor]) -> str:
    """Check ``fn(X, dy, dx)``: every image of X (N, 1, H, W) moved down by dy and right by dx whole
    pixels, the uncovered border filled with the background; reference
    :func:`lenet_course.augment.translate`. Used in the distortions chapter."""
    _require_function(fn, "check_shift(shift)")
    g = torch.Generator().manual_seed(3)
    X = torch.randn(3, 1, 8, 6, generator=g)  # a batch of non-square images, negative values included
    bg = inputs.BACKGROUND
    got, cases = [], [(1, 2), (-2, 1), (0, -3), (3, 0), (-1, -2)]
    for dy, dx in cases:
        call = f"{_name(fn)}(X of shape {_shape(X)}, dy={dy}, dx={dx})"
        out = _tensor(_call(fn, call, X.clone(), dy, dx), call)
        if out.shape != X.shape:
            raise _NotYet(f"{call} has shape {_shape(out)}, expected {_shape(X)}: keep the frame; what moves out "
                          "is lost, and the uncovered border is filled with the background.")
        got.append(out)
    x = X.double()
    expected = [augment.translate(x, dy, dx) for dy, dx in cases]
    if _same(got, expected):
        return f"your shift matches augment.translate on all {len(cases)} shifts, in every direction."
    border = [augment.translate(torch.zeros_like(x), dy, dx) != 0 for dy, dx in cases]
    diagnosis = _matching(got, [
        ([e.masked_fill(b, 0.0) for e, b in zip(expected, border)], "filled with 0 instead of the background: "
         f"after normalising, black is lenet_course.inputs.BACKGROUND ({bg:.4f}); 0 is mid-grey."),
        ([augment.translate(x, -dy, -dx) for dy, dx in cases], "moved the wrong way: positive dy moves down and "
         "positive dx moves right."),
        ([augment.translate(x, dx, dy) for dy, dx in cases],
         "swapped dy and dx: dy moves rows (dim -2), dx columns (dim -1)."),
        ([torch.roll(x, (dy, dx), dims=(-2, -1)) for dy, dx in cases], "wrapped around (torch.roll): pixels that "
         "leave one edge must be lost, and the uncovered border filled with the background."),
        ([torch.roll(x, (-dy, -dx), dims=(-2, -1)) for dy, dx in cases], "wrapped around (torch.roll), and the "
         "wrong way: positive dy moves down; what leaves the frame is lost, the border filled with the background."),
    ])
    i = _first_difference(got, expected)
    raise _NotYet(diagnosis or f"{_name(fn)}(X, dy={cases[i][0]}, dx={cases[i][1]}) differs from "
                               "lenet_course.augment.translate: move down by dy, right by dx, "
                               "fill with the background.")


# --- the 1998 network chapter ------------------------------------------------------------------


@_checker
def check_squash(fn: Callable[[torch.Tensor], torch.Tensor]) -> str:
    """Check ``fn(a)``: the paper's squashing function f(a) = A tanh(S a), A = 1.7159, S = 2/3, on
    tensors of any shape; reference :func:`lenet_course.classic.squash`. Used in the 1998 chapter."""
    _require_function(fn, "check_squash(squash)")
    g = torch.Generator().manual_seed(4)
    cases = [torch.linspace(-3.0, 3.0, 13), torch.randn(2, 3, 4, 5, generator=g),
             torch.tensor([-10.0, -1.0, 1.0, 10.0])]
    got = []
    for a in cases:
        call = f"{_name(fn)}(a of shape {_shape(a)})"
        out = _tensor(_call(fn, call, a.clone()), call)
        if out.shape != a.shape:
            raise _NotYet(f"{call} has shape {_shape(out)}, expected {_shape(a)}: apply f to every value.")
        got.append(out)
    xs = [a.double() for a in cases]
    if _same(got, [classic.squash(x) for x in xs]):
        return "your f(a) = A tanh(S a) matches the paper's: f(1) = 1 and f(-1) = -1."
    A, S = classic.A, classic.S
    diagnosis = _matching(got, [
        ([torch.tanh(x) for x in xs], f"that is plain tanh: forgot A = {A} and S = 2/3 (f(a) = A tanh(S a))."),
        ([A * torch.tanh(x) for x in xs], "forgot S: the slope factor 2/3 goes inside the tanh, A tanh(S a)."),
        ([torch.tanh(S * x) for x in xs], f"forgot A: multiply the tanh by A = {A}."),
        ([A * torch.tanh(x / S) for x in xs], "used S = 3/2: the paper's S is 2/3, so f(1) = 1."),
        ([S * torch.tanh(A * x) for x in xs], "swapped A and S: f(a) = 1.7159 tanh(2a/3)."),
    ])
    raise _NotYet(diagnosis or "the values differ from f(a) = 1.7159 tanh(2a/3); check f(1) == 1.")


@_checker
def check_sdlm_step(fn: Callable[..., torch.Tensor]) -> str:
    """Check ``fn(w, grad, h, lr, mu)``: one step of the paper's stochastic diagonal Levenberg-Marquardt
    method (its Appendix C), the new weights ``w - lr / (mu + h) * grad`` element by element, for
    tensors ``w``, ``grad`` and ``h`` (h >= 0) of one shape. Used in the 1998 chapter."""
    _require_function(fn, "check_sdlm_step(sdlm_step)")
    g = torch.Generator().manual_seed(5)
    cases = []
    for shape, lr, mu in (((4,), 0.1, 0.02), ((2, 3, 5), 0.5, 1.0), ((3, 1, 2, 2), 1.0, 0.3)):
        w, grad = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
        h = 2 * torch.rand(shape, generator=g)  # curvature estimates, never negative
        cases.append((w, grad, h, lr, mu))
    got = []
    for w, grad, h, lr, mu in cases:
        call = f"{_name(fn)}(w, grad, h of shape {_shape(w)}, lr={lr}, mu={mu})"
        out = _tensor(_call(fn, call, w.clone(), grad.clone(), h.clone(), lr, mu), call)
        if out.shape != w.shape:
            raise _NotYet(f"{call} has shape {_shape(out)}, expected {_shape(w)}: one new value per weight.")
        got.append(out)
    xs = [(w.double(), grad.double(), h.double(), lr, mu) for w, grad, h, lr, mu in cases]
    if _same(got, [w - lr / (mu + h) * grad for w, grad, h, lr, mu in xs]):
        return "your step matches w - lr / (mu + h) * grad for every shape tried."
    diagnosis = _matching(got, [
        ([lr / (mu + h) * grad for w, grad, h, lr, mu in xs],
         "returned the step itself: return the new weights, w minus the step."),
        ([w + lr / (mu + h) * grad for w, grad, h, lr, mu in xs],
         "stepped uphill: subtract the step, w - lr / (mu + h) * grad."),
        ([w - lr / h * grad for w, grad, h, lr, mu in xs],
         "forgot mu: divide by mu + h, which keeps the step finite where h is near 0."),
        ([w - lr * (mu + h) * grad for w, grad, h, lr, mu in xs],
         "multiplied by mu + h: divide by it, so steep directions get small steps."),
        ([w - (lr / mu + h) * grad for w, grad, h, lr, mu in xs],
         "lr / mu + h divides lr by mu alone: write lr / (mu + h)."),
        ([w - lr * grad for w, grad, h, lr, mu in xs],
         "ignored h: that is plain gradient descent; divide lr by mu + h."),
    ])
    raise _NotYet(diagnosis or "the new weights differ from w - lr / (mu + h) * grad.")


# --- the PyTorch implementation chapter --------------------------------------------------------


@_checker
def check_output_size(fn: Callable[..., int]) -> str:
    """Check ``fn(size, kernel_size, stride=1, padding=0)`` against the output-size rule. Used in the
    data-flow chapter."""
    _require_function(fn, "check_output_size(output_size)")
    cases = [(32, 5, 1, 0), (28, 2, 2, 0), (14, 5, 1, 0), (10, 2, 2, 0), (28, 5, 1, 2), (32, 3, 2, 1), (7, 7, 1, 0),
             (9, 3, 2, 0)]
    got = []
    for size, k, s, p in cases:
        call = f"{_name(fn)}({size}, {k}, stride={s}, padding={p})"
        got.append(_number(_call(fn, call, size, k, stride=s, padding=p), call))
    expected = [shapes.conv_output_size(*case) for case in cases]
    if got == expected:
        return f"your function agrees with the rule on all {len(cases)} cases."
    diagnosis = _matching(got, [
        ([(n + 2 * p - k) / s + 1 for n, k, s, p in cases], "used / instead of //: a size is a whole number "
         "(the last partial window is dropped)."),
        ([e - 1 for e in expected], "off by one (one short): the window fits at positions 0 .. size - k, "
         "so add 1."),
        ([e + 1 for e in expected], "off by one (one too many): (size + 2*padding - kernel_size) // stride + 1."),
        ([n + 2 * p - k + 1 for n, k, s, p in cases], "ignored stride: divide by it before adding 1."),
        ([(n - k) // s + 1 for n, k, s, p in cases], "ignored padding: it adds to both sides, size + 2*padding."),
        ([(n + p - k) // s + 1 for n, k, s, p in cases], "padding is added on both sides: size + 2*padding."),
    ])
    i = _first_difference(got, expected, exact=True)
    n, k, s, p = cases[i]
    raise _NotYet(diagnosis or f"{_name(fn)}({n}, {k}, stride={s}, padding={p}) returned {got[i]:g}, expected "
                               f"{expected[i]}; remember (size + 2*padding - kernel_size) // stride + 1.")


@_checker
def check_parameter_count(layer: str, answer: int) -> str:
    """Check a hand-computed parameter count for one layer of :class:`LeNet5` (``"c1"``, ``"f5"``, ...).
    Used in the history chapter and the PyTorch implementation chapter."""
    value = _answer(answer, "count")
    model = _reference(LeNet5)
    names = [name for name, _ in model.named_children()]
    if layer not in names:
        raise _NotYet(f"{layer!r} is not a layer of LeNet5; try one of {names}.")
    module = getattr(model, layer)
    expected = shapes.count_parameters(module)
    if value == expected:
        return f"{layer} has {expected:,} parameters." if expected else f"{layer} (pooling) has no parameters."
    if expected == 0:
        raise _NotYet(f"{layer} has no parameters: max pooling only picks the largest value of each block.")
    counts = shapes.layer_counts(model)
    if value == expected - module.bias.numel():
        hint = f"forgot the biases: one per output {'map' if isinstance(module, nn.Conv2d) else 'unit'}"
    elif value == counts[layer]["connections"] and value != expected:
        hint = "that is the number of connections; with shared weights, each map has one kernel and one bias"
    else:
        hint = "count the weights (out x in x k x k for a convolution, out x in for a linear layer) and add one " \
               "bias per output"
    raise _NotYet(f"{value:,g} is not the parameter count of {layer}: {hint}.")


def _confusion(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """(10, 10) counts: row i, column j is how many images of digit i were predicted as j."""
    return torch.bincount(10 * y_true + y_pred, minlength=100).reshape(10, 10)


@_checker
def check_confusion_matrix(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> str:
    """Check ``fn(y_true, y_pred)``: two (N,) int64 tensors of digits -> the (10, 10) confusion matrix of counts,
    row = true digit, column = predicted digit. Used in the PyTorch implementation chapter."""
    _require_function(fn, "check_confusion_matrix(confusion_matrix)")
    g = torch.Generator().manual_seed(5)
    y = torch.randint(0, 10, (300,), generator=g)
    wrong = torch.rand(300, generator=g) < 0.2  # about one in five predictions is wrong
    cases = [("300 digits", y, torch.where(wrong, torch.randint(0, 10, (300,), generator=g), y)),
             ("digits 0-6 only", y[y < 7], (y[y < 7] + 1) % 7),  # 7, 8 and 9 never occur
             ("one pair, 5 times", torch.full((5,), 3), torch.full((5,), 5)),
             ("one image", torch.tensor([9]), torch.tensor([4]))]
    got, expected = [], []
    for label, y_true, y_pred in cases:
        call = f"{_name(fn)}({label})"
        out = _tensor(_call(fn, call, y_true.clone(), y_pred.clone()), call)
        if tuple(out.shape) != (10, 10):
            side = 1 + int(max(y_true.max(), y_pred.max()))
            cause = (f"sized from the largest digit present ({side - 1}): make it 10x10 whatever the labels"
                     if tuple(out.shape) == (side, side) else "one row per true digit and one column per prediction")
            raise _NotYet(f"{call} has shape {_shape(out)}, expected (10, 10): {cause}.")
        got.append(out)
        expected.append(_confusion(y_true, y_pred).double())
    if _same(got, expected):
        return f"your matrix matches on all {len(cases)} cases, absent digits and repeated pairs included."
    diagnosis = _matching(got, [
        ([e.T for e in expected], "rows and columns swapped: row i counts the images whose true digit is i, "
         "column j those predicted as j."),
        ([(e > 0).double() for e in expected], "each (true, predicted) pair is counted at most once: "
         "m[y_true, y_pred] += 1 does not add repeated pairs up; loop over the pairs, or use torch.bincount."),
    ])
    i = _first_difference(got, expected)
    raise _NotYet(diagnosis or f"{_name(fn)}({cases[i][0]}) differs from the counts: add 1 at row y_true[k], "
                               "column y_pred[k] for every image k.")


@_checker
def check_lenet5(model: nn.Module) -> str:
    """Check a learner's LeNet-5: (N, 1, 32, 32) -> (N, 10), the article's parameter count, the paper's layer
    names (``c1, s2, c3, s4, f5, f6, output``) with the right shapes, and, with :class:`LeNet5`'s weights copied
    in, the same outputs (so every ReLU is in place). Used in the PyTorch implementation chapter."""
    if model is None or model is Ellipsis:
        raise _NotYet(f"the model is still the stub ({model!r}): build it, then run this cell again.")
    if isinstance(model, type):
        raise _NotYet(f"got the class {model.__name__}, not a model: pass an instance, {model.__name__}().")
    if not isinstance(model, nn.Module):
        raise _NotYet(f"expected an nn.Module, got a {type(model).__name__}.")
    expected_params = shapes.count_parameters(_reference(LeNet5))
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    call = f"{_name(model)} on a (2, 1, 32, 32) batch"
    with torch.no_grad():
        out = _call(model, call, torch.zeros(2, 1, 32, 32, device=device))
    if not isinstance(out, torch.Tensor):
        raise _NotYet(f"{call} returned a {type(out).__name__}; forward should return the (N, 10) logits.")
    if tuple(out.shape) != (2, 10):
        raise _NotYet(f"output shape is {tuple(out.shape)}, expected (2, 10): one score per digit class.")
    params = shapes.count_parameters(model)
    if params != expected_params:
        raise _NotYet(f"{params:,} parameters, expected {expected_params:,}; compare each layer's size with the "
                      "article's (checks.check_parameter_count helps layer by layer).")
    reference = _reference(LeNet5)
    names = [name for name, _ in reference.named_children()]  # the paper's: c1, s2, c3, s4, f5, f6, output
    children = dict(model.named_children())
    missing = [name for name in names if name not in children]
    if missing:
        raise _NotYet(f"no layer named {', '.join(missing)}: give the layers the paper's names (self.c1 = "
                      f"nn.Conv2d(...), and so on); found {', '.join(children) or 'none'}.")
    for name in names:
        shapes_got = [tuple(p.shape) for p in children[name].parameters()]
        shapes_expected = [tuple(p.shape) for p in getattr(reference, name).parameters()]
        if shapes_got != shapes_expected:
            raise _NotYet(f"{name} has parameters of shapes {shapes_got}, expected {shapes_expected}: "
                          "check which layer each name holds.")
    mine = copy.deepcopy(model).cpu().eval()
    mine.load_state_dict(reference.state_dict())  # the same weights, so the same function if forward is right
    x = 3 * torch.randn(16, 1, 32, 32, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        got, expected = _call(mine, call, x.clone()), reference(x)
        if _same(got, expected, 1e-4):
            return f"output (N, 10), {params:,} parameters, the paper's layer names, LeNet5's outputs."
        diagnosis = _lenet_diagnosis(reference, x, got)
    raise _NotYet(diagnosis or f"with LeNet5's weights copied in, your forward differs from it by up to "
                               f"{(got - expected).abs().max().item():.3g}: the order is c1, ReLU, s2, c3, ReLU, s4, "
                               "flatten, f5, ReLU, f6, ReLU, output.")


_ACTIVATED = ("c1", "c3", "f5", "f6")  # the layers LeNet5 follows with a ReLU


def _lenet_variant(ref: LeNet5, x: torch.Tensor, missing: tuple[str, ...] = (), relu_output: bool = False,
                   pool: Callable[..., torch.Tensor] = F.max_pool2d,
                   act: Callable[[torch.Tensor], torch.Tensor] = torch.relu) -> torch.Tensor:
    """LeNet5's forward with ``ref``'s weights and one usual slip: no ReLU after the layers in ``missing``,
    a ReLU on the logits, another pooling or another activation."""
    def a(name: str, t: torch.Tensor) -> torch.Tensor:
        return t if name in missing else act(t)
    x = pool(a("c1", ref.c1(x)), 2)  # (N, 6, 14, 14)
    x = pool(a("c3", ref.c3(x)), 2)  # (N, 16, 5, 5)
    x = a("f6", ref.f6(a("f5", ref.f5(torch.flatten(x, 1)))))  # (N, 84)
    x = ref.output(x)  # (N, 10)
    return torch.relu(x) if relu_output else x


def _lenet_diagnosis(ref: LeNet5, x: torch.Tensor, got: torch.Tensor) -> str | None:
    """The one line for a learner's LeNet-5 whose outputs ``got`` match a usual slip, or None."""
    subsets = [tuple(n for i, n in enumerate(_ACTIVATED) if mask >> i & 1) for mask in range(1, 16)]
    for missing in subsets:
        if _same(got, _lenet_variant(ref, x, missing), 1e-4):
            where = "any layer" if len(missing) == len(_ACTIVATED) else " and ".join(missing)
            return (f"no ReLU after {where}: apply F.relu to the output of c1 (or s2), c3 (or s4), f5 and f6; "
                    "without it two layers in a row are just one linear map.")
    if _same(got, _lenet_variant(ref, x, relu_output=True), 1e-4):
        return "the logits go through a ReLU: return self.output(x) as it is; scores may be negative."
    if _same(got, _lenet_variant(ref, x, pool=F.avg_pool2d), 1e-4):
        return "s2 and s4 average each 2x2 block: here they take the maximum (nn.MaxPool2d(2))."
    if any(_same(got, _lenet_variant(ref, x, act=act), 1e-4) for act in (torch.tanh, torch.sigmoid)):
        return "a tanh or sigmoid where the article uses ReLU: apply F.relu after c1, c3, f5 and f6."
    return None


# Every checker, by name: derived, so that a new checker is listed (and tested) without a second edit.
CHECKERS: dict[str, Callable[..., Verdict]] = {
    name: fn for name, fn in sorted(globals().items()) if name.startswith("check_") and callable(fn)}
