import json

from lenet_course.augment import Distortion
from lenet_course.checkpoints import PRETRAINED_DIR
from lenet_course.pretrain import SWEEP_FILE, choose_strength, recipe
from lenet_course.train import distorted_config


def row(factor, clean, moved):
    return {"factor": factor, "val_accuracy": clean, "val_accuracy_shifted_3_3": moved}


def test_the_strength_is_the_most_accurate_among_the_robust_ones():
    rows = [row(0.0, 0.993, 0.50), row(0.5, 0.991, 0.96), row(1.0, 0.992, 0.97), row(1.5, 0.988, 0.99)]
    assert choose_strength(rows) == 1.0
    assert choose_strength(rows, floor=0.98) == 1.5
    assert choose_strength([row(0.0, 0.99, 0.5), row(1.0, 0.98, 0.7)]) == 1.0  # none robust


def test_the_shipped_recipe_is_the_sweeps_choice():
    table = json.loads((PRETRAINED_DIR / SWEEP_FILE).read_text())
    assert table["best_factor"] == choose_strength(table["rows"])
    assert distorted_config().distortion == Distortion().scaled(table["best_factor"])
    assert recipe("lenet5", "distorted") == distorted_config()
