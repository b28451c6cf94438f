import json
from dataclasses import asdict

from lenet_course.augment import Distortion
from lenet_course.checkpoints import PRETRAINED_DIR
from lenet_course.pretrain import (
    SWEEP_EPOCHS,
    SWEEP_FACTORS,
    SWEEP_FILE,
    choose,
    choose_undistorted,
    recipe,
    sweep_config,
)
from lenet_course.train import TrainConfig, distorted_config, undistorted_config


def row(factor, clean, moved, epochs=12):
    return {"factor": factor, "epochs": epochs, "val_accuracy": clean, "val_accuracy_shifted_3_3": moved}


def test_the_run_is_the_most_accurate_among_the_robust_ones():
    rows = [row(0.0, 0.993, 0.50), row(0.5, 0.991, 0.96), row(1.0, 0.992, 0.97), row(1.5, 0.988, 0.99)]
    assert choose(rows)["factor"] == 1.0
    assert choose(rows, floor=0.98)["factor"] == 1.5
    assert choose([row(0.0, 0.99, 0.5), row(1.0, 0.98, 0.7)])["factor"] == 1.0  # none robust: most robust
    longer = rows + [row(1.0, 0.9925, 0.975, epochs=24), row(0.0, 0.994, 0.5, epochs=24)]
    assert (choose(longer)["factor"], choose(longer)["epochs"]) == (1.0, 24)
    assert choose_undistorted(longer)["epochs"] == 24  # the best run without distortions


def test_the_shipped_recipes_are_the_sweeps_choice():
    table = json.loads((PRETRAINED_DIR / SWEEP_FILE).read_text())
    rows = table["rows"]
    assert [(r["factor"], r["epochs"]) for r in rows] == [(f, e) for f in SWEEP_FACTORS for e in SWEEP_EPOCHS]
    assert not any("test" in key for r in rows for key in r)  # the sweep never scores the test set
    best = choose(rows)
    assert (table["best_factor"], table["best_epochs"]) == (best["factor"], best["epochs"])
    assert distorted_config().distortion == Distortion().scaled(best["factor"])
    assert distorted_config().num_epochs == best["epochs"]
    assert undistorted_config().num_epochs == table["undistorted_epochs"] == choose_undistorted(rows)["epochs"]
    assert recipe("lenet5", "distorted") == distorted_config()
    assert sweep_config(best["factor"], best["epochs"]) == distorted_config()  # lenet5 is that run
    for name, regime in (("lenet5", "distorted"), ("lenet5_undistorted", "undistorted")):
        meta = json.loads((PRETRAINED_DIR / f"{name}.json").read_text())
        config = json.loads(json.dumps(asdict(recipe("lenet5", regime))))
        assert {k: config[k] for k in meta["config"]} == meta["config"], name
        # fields TrainConfig gained after these weights were trained sit at their defaults,
        # which train exactly as before (no label smoothing or batch ramp, one-cycle warm-up 0.3)
        later = {k: v for k, v in config.items() if k not in meta["config"]}
        assert later == {k: v for k, v in json.loads(json.dumps(asdict(TrainConfig()))).items() if k in later}, name
