import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from toy import toy_data

from lenet_course import bench
from lenet_course.checkpoints import pretrained_metadata
from lenet_course.models import LeNet5
from lenet_course.train import TrainConfig, adam_config, fast_config

LAST_LINE = re.compile(
    r"^time_to_99_speedup=(\S+) worst_seed_speedup=(\S+) epoch_speedup=(\S+) course_epoch_s=(\S+) "
    r"tutorial_epoch_s=(\S+) course_time_to_99_s=(\S+) course_worst_time_to_99_s=(\S+) "
    r"tutorial_time_to_99_s=(\S+)( course_gflops=(\S+) fp32_peak_gflops=(\S+)( bf16_peak_gflops=(\S+))?)?$")


def test_layer_macs_and_training_flops_match_a_hand_count():
    """LeNet-5, one image: C1 28x28 outputs x 6 maps x (1x5x5), C3 10x10 x 16 x (6x5x5),
    F5 120 x 400, F6 84 x 120, output 10 x 84 multiply-adds."""
    macs = bench.layer_macs(LeNet5())
    assert macs == {"c1": 28 * 28 * 6 * 25, "c3": 10 * 10 * 16 * 150, "f5": 120 * 400, "f6": 84 * 120,
                    "output": 10 * 84}
    assert sum(macs.values()) == 416_520
    flops = bench.training_flops()
    assert flops["forward"] == 2 * 416_520
    # backward: weight gradients of all five layers, input gradients of all but C1 (the image)
    assert flops["backward"] == 2 * 416_520 + 2 * (416_520 - 117_600)
    assert flops["total"] == 2_263_920
    channels_last = LeNet5().to(memory_format=torch.channels_last)
    assert bench.layer_macs(channels_last) == macs  # the layout does not change the work


def test_matmul_throughput_is_a_positive_rate():
    assert bench.matmul_gflops(torch.float32, size=64, trials=2, min_seconds=0.001) > 0


def test_peak_use_prints_the_work_and_each_percentage():
    text = bench.format_peak_use(2.0, {"fp32": 200.0, "bf16": 800.0}, images=60_000, bf16=True)
    work = 60_000 * 2_263_920 / 1e9
    assert f"{work:.1f} GFLOP" in text
    assert f"{work / 2:.1f} GFLOP/s" in text
    assert f"{100 * work / 2 / 200:.1f}% of the fp32 peak" in text
    assert f"{100 * work / 2 / 800:.1f}% of the bf16 peak" in text and "computes in bf16" in text


def test_summarise_finds_the_first_measurement_at_the_target():
    s = bench.summarise({"eval_epochs": [0.5, 1.0, 1.5, 2.0], "eval_times": [5.0, 6.0, 5.0, 6.0],
                         "accuracies": [0.98, 0.989, 0.991, 0.993], "images": 60_000, "peak_memory_mb": 100.0})
    assert s["time_to_target_s"] == 16.0 and s["epochs_to_target"] == 1.5
    assert s["epoch_s"] == 11.0 and s["final_accuracy"] == 0.993 and s["epochs"] == 2.0
    assert s["images_per_s"] == 60_000 / 11.0
    never = bench.summarise({"eval_epochs": [1], "eval_times": [1.0], "accuracies": [0.5], "images": 10,
                             "peak_memory_mb": 1.0})
    assert math.isnan(never["time_to_target_s"]) and math.isnan(never["epochs_to_target"])


def _summary(time_to_target, epochs_to_target, epoch_s=2.0, accuracy=0.991):
    return {"epoch_s": epoch_s, "images_per_s": 60_000 / epoch_s, "time_to_target_s": time_to_target,
            "epochs_to_target": epochs_to_target, "final_accuracy": accuracy, "epochs": 2.0,
            "peak_memory_mb": 900.0}


def test_seeds_combine_into_median_and_worst():
    combined = bench.combine_seeds([_summary(4.0, 1.5), _summary(3.0, 1.0, accuracy=0.993), _summary(6.0, 2.0)])
    assert combined["time_to_target_s"] == 4.0 and combined["worst_time_to_target_s"] == 6.0
    assert combined["epochs_to_target"] == 1.5 and combined["worst_epochs_to_target"] == 2.0
    assert combined["final_accuracy"] == 0.991 and combined["best_final_accuracy"] == 0.993
    missed = bench.combine_seeds([_summary(4.0, 1.5), _summary(math.nan, math.nan), _summary(3.0, 1.0)])
    assert missed["time_to_target_s"] == 4.0  # the seed that never got there counts as the slowest
    assert math.isnan(missed["worst_time_to_target_s"])


def test_report_puts_both_pipelines_side_by_side_with_ratios():
    tutorial = {"epoch_s": 16.0, "images_per_s": 3750.0, "time_to_target_s": 128.0, "epochs_to_target": 8.0,
                "final_accuracy": 0.9901, "epochs": 8.0, "peak_memory_mb": 900.0}
    course = bench.combine_seeds([_summary(4.0, 1.5), _summary(3.0, 1.0), _summary(8.0, 2.0)])
    report = bench.format_report(tutorial, course)
    lines = report.splitlines()
    assert "tutorial" in lines[0] and "course (3 seeds)" in lines[0]
    assert any("worst of 3 seeds" in line and "16.0x faster" in line for line in lines)
    assert any(line.startswith("time to 99.0% test accuracy") and "32.0x faster" in line for line in lines)
    values = LAST_LINE.match(bench.report_line(tutorial, course, {"fp32": 100.0, "bf16": 400.0})).groups()
    assert [float(v) for v in values[:8]] == [32.0, 16.0, 8.0, 2.0, 16.0, 4.0, 8.0, 128.0]
    assert float(values[9]) == pytest.approx(60_000 * 2_263_920 / 2.0 / 1e9, abs=1e-3)
    assert LAST_LINE.match(bench.report_line(tutorial, _summary(4.0, 1.5)))  # one seed, no peaks


def test_candidates_build_on_each_other_and_include_the_fast_recipe():
    candidates = bench.candidate_recipes()
    steps = len(bench.RECIPE_STEPS)
    assert candidates[0][1] == bench.RECIPE_STEPS[0][1]
    for (_, before), (_, after), (_, changes) in zip(candidates, candidates[1:steps], bench.RECIPE_STEPS[1:]):
        assert after == {**before, **changes}
    for name, changes in bench.RECIPE_ALTERNATIVES:
        assert dict(candidates)[name] == {**candidates[steps - 1][1], **changes}
    configs = [bench.recipe_config(settings) for _, settings in candidates]
    assert all(config.evals_per_epoch == 2 and config.max_shift == 0 for config in configs)
    assert all(config.num_epochs <= 2 for config in configs[1:])  # two epochs or fewer after the first
    # fast_config is the candidate that --choose picked, as the README's recorded run names it
    readme = (Path(bench.__file__).resolve().parent.parent / "README.md").read_text()
    chosen = re.search(r"^chosen: (.+?) \{.*\}; fast_config\(\) is this recipe$", readme, re.M).group(1)
    assert fast_config("cpu", evals_per_epoch=2) == configs[[name for name, _ in candidates].index(chosen)]
    assert adam_config("cpu", evals_per_epoch=2) == configs[4]  # Adam's recipe, before Muon
    assert [config.optimizer for config in configs[:steps]] == ["adam"] * 5 + ["muon"] * (steps - 5)


def test_validation_target_is_the_test_target_less_the_smallest_shipped_gap():
    gaps = [pretrained_metadata(name)["test_accuracy"] - pretrained_metadata(name)["val_accuracy"]
            for name in bench.SHIPPED]
    assert all(gap > 0 for gap in gaps)  # the validation images are the harder ones
    assert bench.validation_target() == pytest.approx(0.99 - min(gaps))
    assert bench.validation_target(margin=0.001) == pytest.approx(0.991 - min(gaps))


def test_recipe_table_measures_each_half_epoch_and_picks_the_earliest():
    data = toy_data(600)
    candidates = [("slow", dict(num_epochs=1, lr=1e-5, batch_size=64)),
                  ("fast", dict(num_epochs=1, lr=3e-3, batch_size=32))]
    rows = bench.recipe_table(data, candidates, seeds=(0, 1), device="cpu", target=0.99)
    assert [row["name"] for row in rows] == ["slow", "fast"]
    for row in rows:
        assert row["epochs"] == [0.5, 1.0] and len(row["val_acc"]) == 2
        assert row["worst"] == [min(a, b) for a, b in zip(*row["val_acc"])]
        assert row["median"] == [(a + b) / 2 for a, b in zip(*row["val_acc"])]
    assert rows[0]["epochs_to_target"] is None and rows[1]["epochs_to_target"] in (0.5, 1.0)
    # 200 training images in batches of 32: 4 steps for the first half epoch (128), 3 after
    assert rows[1]["steps_to_target"] == {0.5: 4, 1.0: 7}[rows[1]["epochs_to_target"]]
    assert rows[1]["iterations_per_step"] == 0  # Adam
    assert bench.pick_recipe(rows) is rows[1]
    assert bench.pick_recipe(rows[:1]) is None
    table = bench.format_recipe_table(rows, 0.99, columns=2)
    assert "median of 2 seeds" in table and "99.00%" in table and "0.5 ep" in table
    assert all(len(line) <= 88 for line in bench.format_recipe_table(rows, 0.99).splitlines())


def test_pick_prefers_fewer_epochs_steps_and_iterations_then_the_better_median_then_worst_seed():
    def row(reached, steps, median, worst, iterations=25):
        return {"epochs": [0.5, 1.0, 1.5, 2.0], "median": median, "worst": worst, "epochs_to_target": reached,
                "steps_to_target": steps, "iterations_per_step": iterations}

    rows = [row(1.5, 100, [0.97, 0.98, 0.995, 0.995], [0.97, 0.98, 0.995, 0.995]),
            row(1.0, 300, [0.97, 0.995, 0.99, 0.99], [0.97, 0.993, 0.99, 0.99]),
            row(1.0, 200, [0.97, 0.990, 0.99, 0.99], [0.97, 0.990, 0.99, 0.99]),  # fewer steps
            row(1.0, 200, [0.97, 0.992, 0.99, 0.99], [0.97, 0.987, 0.99, 0.99]),  # and a better median
            row(1.0, 200, [0.97, 0.992, 0.99, 0.99], [0.97, 0.988, 0.99, 0.99]),  # and a better worst: picked
            row(None, None, [0.5] * 4, [0.5] * 4),
            row(1.0, 200, [0.97, 0.991, 0.99, 0.99], [0.97, 0.985, 0.99, 0.99], iterations=12)]  # cheaper steps
    assert bench.pick_recipe(rows[:5]) is rows[4]
    assert bench.pick_recipe(rows[:4]) is rows[3]
    assert bench.pick_recipe(rows[:3]) is rows[2]
    assert bench.pick_recipe([rows[0], rows[5]]) is rows[0]
    assert bench.pick_recipe(rows[5:6]) is None
    assert bench.pick_recipe(rows) is rows[6]  # fewer Newton-Schulz iterations come before accuracy


def test_newton_schulz_per_step_counts_the_iterations_over_muons_matrices():
    assert bench.newton_schulz_per_step(TrainConfig()) == 0  # Adam
    assert bench.newton_schulz_per_step(TrainConfig(optimizer="muon")) == 5 * 5  # five matrices, five each
    assert bench.newton_schulz_per_step(TrainConfig(optimizer="muon", muon_ns_steps=3, muon_output=False)) == 3 * 4


def test_profile_splits_an_epoch_into_operators_by_phase(capfd):
    config = TrainConfig(num_epochs=1, batch_size=32, max_shift=0, bf16=False)
    profile = bench.profile_epoch(config, device="cpu", data=toy_data(600))
    assert capfd.readouterr().err == ""  # the profiler's native start/stop lines kept off the page
    rows = profile["rows"]
    assert sum(row["share"] for row in rows) == pytest.approx(1.0)
    assert [row["seconds"] for row in rows] == sorted((row["seconds"] for row in rows), reverse=True)
    where = {(row["phase"], row["operator"]) for row in rows}
    assert ("forward", "aten::mkldnn_convolution") in where or ("forward", "aten::convolution") in where
    assert ("backward", "aten::convolution_backward") in where
    assert ("data", "aten::index") in where
    assert ("forward", "MaxPoolByRows: aten::maximum") in where  # S2 pooled by lenet_course.kernels
    assert any(phase == "optimiser" for phase, _ in where)
    assert set(profile["phases"]) == {"data", "forward", "backward", "optimiser", "other"}
    text = bench.format_profile(profile, top=5)
    assert len(text.splitlines()) == 1 + 5 + 3 and text.splitlines()[-2].startswith("by phase: data")
    assert text.splitlines()[-1].startswith("by kind of work: convolutions")
    shares = bench.shares_by_kind(profile)
    assert list(shares) == ["convolutions", "max pooling", "optimiser", "the rest"]
    assert sum(shares.values()) == pytest.approx(1.0) and min(shares.values()) > 0


def test_shares_by_kind_sort_operators_into_their_kinds():
    def row(phase, operator, share):
        return {"phase": phase, "operator": operator, "share": share}

    profile = {"rows": [row("backward", "aten::convolution_backward", 0.3),
                        row("forward", "aten::mkldnn_convolution", 0.1),
                        row("forward", "aten::max_pool2d_with_indices", 0.1), row("backward", "aten::fill_", 0.05),
                        row("forward", "MaxPoolByRows: aten::gt", 0.1),
                        row("optimiser", "aten::mm", 0.15), row("optimiser", "(python)", 0.05),
                        row("forward", "aten::addmm", 0.15)]}
    assert bench.shares_by_kind(profile) == pytest.approx(
        {"convolutions": 0.4, "max pooling": 0.25, "optimiser": 0.2, "the rest": 0.15})


def test_profile_cuts_given_data_to_train_size(monkeypatch):
    sizes = []
    real_fit = bench.fit

    def recording_fit(model, data, *args, **kwargs):
        sizes.append(len(data.X_train))
        return real_fit(model, data, *args, **kwargs)

    monkeypatch.setattr(bench, "fit", recording_fit)
    config = TrainConfig(num_epochs=1, batch_size=32, max_shift=0, bf16=False)
    bench.profile_epoch(config, device="cpu", data=toy_data(600), train_size=96)
    assert sizes[-1] == 96  # the profiled epoch; the warm-up before it is as large or smaller


def test_quick_benchmark_runs_and_prints_the_new_lines():
    done = subprocess.run([sys.executable, "-m", "lenet_course.bench", "--quick", "--device", "cpu"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert "seconds per epoch" in done.stdout and "time to 99.0% test accuracy" in done.stdout
    assert "worst of 1 seed" in done.stdout
    assert "training work of one 2,000-image epoch" in done.stdout
    assert "matrix-multiply peak here: fp32" in done.stdout and "% of the fp32 peak" in done.stdout
    assert LAST_LINE.match(lines[-1]), lines[-1]


def test_every_module_imports_without_resource(tmp_path):
    """`resource` is POSIX only; on Windows every module must still import."""
    modules = sorted(p.stem for p in Path(bench.__file__).parent.glob("*.py") if p.stem != "__main__")
    script = "import sys; sys.modules['resource'] = None\n" + "\n".join(
        f"import lenet_course.{name}" for name in modules)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]


class _Usage:
    ru_maxrss = 3 * 2**20


def test_peak_memory_is_read_in_each_platforms_unit(monkeypatch):
    fake = type("resource", (), {"RUSAGE_SELF": 0, "getrusage": staticmethod(lambda who: _Usage)})
    monkeypatch.setattr(bench, "resource", fake)
    assert bench._peak_rss_mb("darwin") == 3.0  # macOS reports bytes
    assert bench._peak_rss_mb("linux") == 3 * 1024  # Linux reports KiB
