"""A digit drawn by hand, made to look like MNIST (the drawing page does the same in JavaScript)."""

import pytest
import torch

from lenet_course import data, drawing
from lenet_course.checkpoints import load_pretrained
from lenet_course.train import predict


def test_preprocess_drawing_scales_the_ink_into_20x20_and_centres_its_mass():
    canvas = torch.zeros(280, 280)
    canvas[30:130, 200:250] = 255  # a 100x50 block in the top-right corner
    out = drawing.preprocess_drawing(canvas)
    assert out.shape == (28, 28) and out.dtype == torch.uint8
    rows, cols = (out > 0).nonzero(as_tuple=True)
    assert rows.max() - rows.min() + 1 == 20 and cols.max() - cols.min() + 1 == 10  # aspect kept
    weights = out.float()
    cy = (weights.sum(1) * torch.arange(28.0)).sum() / weights.sum()
    cx = (weights.sum(0) * torch.arange(28.0)).sum() / weights.sum()
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5
    assert int(out.max()) == 255


def test_preprocess_drawing_of_an_mnist_digit_gives_it_back(mnist):
    X, _ = data.load_raw("test")
    digit = X[0]
    big = torch.nn.functional.interpolate(digit[None, None].float(), scale_factor=10, mode="nearest")[0, 0]
    again = drawing.preprocess_drawing(big)
    assert (again.float() - digit.float()).abs().mean() < 25  # close to the original digit
    model = load_pretrained("lenet5")
    assert predict(model, data.prepare_images(again[None])) == predict(model, data.prepare_images(digit[None]))


def test_preprocess_drawing_of_nothing_is_blank_and_bad_input_is_refused():
    assert int(drawing.preprocess_drawing(torch.zeros(40, 30)).sum()) == 0
    with pytest.raises(ValueError, match="2-D"):
        drawing.preprocess_drawing(torch.zeros(3, 4, 5))
