from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from toy import toy_data

from lenet_course.augment import Distortion, random_shift
from lenet_course.data import MNIST
from lenet_course.inputs import BACKGROUND
from lenet_course.models import LeNet5
from lenet_course.optim import Muon
from lenet_course.train import (
    History,
    TrainConfig,
    _sync,  # the CUDA path's logic, tested without a GPU
    bf16_supported,
    choose_device,
    classic_config,
    distorted_config,
    evaluate,
    fast_config,
    features_of,
    fit,
    make_optimizer,
    one_cycle,
    output_layer,
    predict,
    predict_logits,
    set_seed,
    undistorted_config,
)


def test_fit_learns_and_records_a_history():
    data = toy_data()
    history = fit(LeNet5(), data, TrainConfig(num_epochs=3, batch_size=32, lr=3e-3), device="cpu", progress=False)
    assert len(history.train_loss) == len(history.val_acc) == len(history.epoch_time_s) == 3
    assert history.epochs == [1, 2, 3]
    assert history.val_acc[-1] == 1.0
    assert history.test_acc == [] and history.test_loss == []  # the test split is not touched
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.time_to(1.0) is not None and history.time_to(1.01) is None


def test_fit_seeds_the_weights_it_builds_from_the_config():
    """Given a function that builds the network, fit seeds first: the seed fixes the initial
    weights, the data order and so the trained weights; no set_seed() needed before it."""
    data = toy_data()
    config = TrainConfig(num_epochs=1, batch_size=64, seed=1)
    first, second = (fit(LeNet5, data, config, device="cpu", progress=False).model for _ in range(2))
    other = fit(LeNet5, data, TrainConfig(num_epochs=1, batch_size=64, seed=2), device="cpu", progress=False).model
    assert torch.equal(first.c1.weight, second.c1.weight)
    assert not torch.equal(first.c1.weight, other.c1.weight)
    set_seed(1)
    by_hand = LeNet5()  # the old way: seed, build, then fit the network itself
    history = fit(by_hand, data, config, device="cpu", progress=False)
    assert history.model is by_hand and torch.equal(by_hand.c1.weight, first.c1.weight)


def test_evaluate_and_predict_count_correctly():
    data = toy_data()
    model = LeNet5()
    result = evaluate(model, data.X_test, data.y_test)
    predictions = predict(model, data.X_test)
    assert result.correct == int((predictions == data.y_test).sum())
    assert result.total == len(data.y_test) and 0 <= result.accuracy <= 1
    with pytest.raises(ValueError, match="labels"):
        evaluate(model, data.X_test, data.y_test[:3])


def test_history_time_to_adds_up_epochs():
    h = History(val_acc=[0.98, 0.991, 0.995], test_acc=[0.99, 0.99, 0.99],
                epoch_time_s=[2.0, 3.0, 4.0])
    assert h.time_to(0.99) == 5.0
    assert h.time_to(0.999) is None
    assert h.time_to(0.99, split="test") == 2.0


def test_config_rejects_nonsense():
    with pytest.raises(ValueError):
        TrainConfig(num_epochs=0)
    with pytest.raises(ValueError):
        TrainConfig(schedule="cosine")
    with pytest.raises(ValueError, match="max_shift"):
        TrainConfig(max_shift=-1)


def test_choose_device_prefers_cuda_then_mps_then_the_cpu(monkeypatch):
    assert choose_device("cpu").type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_device() == torch.device("cuda") and choose_device("cuda").type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert choose_device() == torch.device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert choose_device() == torch.device("cpu")
    with pytest.raises(RuntimeError, match="CUDA was requested"):
        choose_device("cuda")


def test_cuda_timings_wait_for_the_device(monkeypatch):
    """On CUDA, work is queued: a timing must synchronise first, and on the CPU it need not."""
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: calls.append(device))
    _sync(torch.device("cpu"))
    assert calls == []
    _sync(torch.device("cuda"))
    assert calls == [torch.device("cuda")]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert not bf16_supported("cuda")  # no bfloat16 autocast asked of a device that is not there


def test_random_shift_moves_whole_images_and_fills_background():
    X = torch.full((64, 1, 32, 32), BACKGROUND)
    X[:, :, 15, 15] = 5.0
    shifted = random_shift(X, 2, generator=torch.Generator().manual_seed(0))
    assert shifted.shape == X.shape
    positions = (shifted[:, 0] == 5.0).flatten(1).float().argmax(1)
    rows, cols = positions // 32, positions % 32
    assert rows.min() >= 13 and rows.max() <= 17 and cols.min() >= 13 and cols.max() <= 17
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 5
    assert torch.equal(random_shift(X, 0), X)


def test_fit_without_a_validation_set_records_nan_and_evaluate_refuses_empty_input():
    data = toy_data()
    empty = MNIST(data.X_train, data.y_train, data.X_val[:0], data.y_val[:0],
                  data.X_test, data.y_test)
    history = fit(LeNet5(), empty, TrainConfig(num_epochs=1, batch_size=64), device="cpu",
                  progress=False)
    assert len(history.val_acc) == 1 and history.val_acc[0] != history.val_acc[0]  # nan
    with pytest.raises(ValueError, match="at least one image"):
        evaluate(LeNet5(), data.X_test[:0], data.y_test[:0])


def test_track_test_scores_the_test_split_every_epoch():
    data = toy_data()
    model = LeNet5()
    history = fit(model, data, TrainConfig(num_epochs=2, batch_size=32), device="cpu",
                  progress=False, track_test=True)
    assert len(history.test_acc) == 2
    assert history.test_acc[-1] == evaluate(model, data.X_test, data.y_test).accuracy


def test_evaluate_loss_is_the_mean_cross_entropy():
    data = toy_data()
    model = LeNet5()
    with torch.no_grad():
        expected = F.cross_entropy(model(data.X_test), data.y_test)
    result = evaluate(model, data.X_test, data.y_test, batch_size=50)
    assert result.loss == pytest.approx(float(expected), rel=1e-5)


@pytest.mark.parametrize("settings", [
    dict(channels_last=True, schedule="onecycle"),
    dict(channels_last=False, schedule="constant"),
    dict(channels_last=True, bf16=True),
    dict(max_shift=2),
    dict(optimizer="muon", muon_lr=0.02),
], ids=["channels-last+onecycle", "contiguous+constant", "bf16", "shift2", "muon"])
def test_every_path_of_fit_learns_the_toy_task(settings):
    data = toy_data()
    config = TrainConfig(num_epochs=3, batch_size=32, lr=3e-3, **settings)
    model = LeNet5()
    history = fit(model, data, config, device="cpu", progress=False)
    assert history.val_acc[-1] == 1.0, history
    if config.channels_last:
        assert model.c1.weight.is_contiguous(memory_format=torch.channels_last)


def test_one_cycle_warms_up_then_anneals(monkeypatch):
    data = toy_data(n=960)
    config = TrainConfig(num_epochs=4, batch_size=32, lr=1e-2, schedule="onecycle")
    model = LeNet5()
    rates = []
    original = torch.optim.Adam.step

    def recording_step(self, *args, **kwargs):
        rates.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", recording_step)
    fit(model, data, config, device="cpu", progress=False)
    peak = rates.index(max(rates))
    assert 0 < peak < len(rates) - 1 and max(rates) == pytest.approx(config.lr, rel=0.05)
    assert rates[0] < config.lr / 10 and rates[-1] < config.lr / 100


def test_one_cycle_gives_muons_weights_and_adams_biases_each_their_own_peak(monkeypatch):
    data = toy_data(n=960)
    config = TrainConfig(num_epochs=2, batch_size=32, lr=1e-2, optimizer="muon", muon_lr=0.05)
    rates = []
    original = Muon.step

    def recording_step(self, *args, **kwargs):
        rates.append([group["lr"] for group in self.param_groups])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Muon, "step", recording_step)
    fit(LeNet5(), data, config, device="cpu", progress=False)
    muon_peak, adam_peak = (max(group) for group in zip(*rates))
    assert muon_peak == pytest.approx(0.05, rel=0.05) and adam_peak == pytest.approx(1e-2, rel=0.05)
    assert rates[-1][0] < 0.05 / 100 and rates[-1][1] < 1e-2 / 100


def test_the_optimizer_is_adam_or_muon_and_muon_takes_no_weight_decay():
    model = LeNet5()
    assert isinstance(make_optimizer(model, TrainConfig(), torch.device("cpu")), torch.optim.Adam)
    assert isinstance(make_optimizer(model, TrainConfig(optimizer="muon"), torch.device("cpu")), Muon)
    with pytest.raises(ValueError, match="no weight decay"):
        make_optimizer(model, TrainConfig(optimizer="muon", weight_decay=1e-4), torch.device("cpu"))
    with pytest.raises(ValueError, match="'adam' or 'muon'"):
        TrainConfig(optimizer="sgd")
    with pytest.raises(ValueError, match="muon_lr"):
        TrainConfig(muon_lr=0)
    with pytest.raises(ValueError, match="muon_ns_steps"):
        TrainConfig(muon_ns_steps=0)


def test_muon_output_false_leaves_the_output_layer_to_adam():
    model = LeNet5()
    assert output_layer(model) is model.output
    config = TrainConfig(optimizer="muon", muon_output=False, muon_ns_steps=3)
    muon_group, adam_group = make_optimizer(model, config, torch.device("cpu")).param_groups
    assert any(p is model.output.weight for p in adam_group["params"])
    assert any(p is model.f6.weight for p in muon_group["params"])
    assert muon_group["ns_steps"] == 3
    everywhere = make_optimizer(model, TrainConfig(optimizer="muon"), torch.device("cpu"))
    assert any(p is model.output.weight for p in everywhere.param_groups[0]["params"])
    with pytest.raises(ValueError, match="no layer with parameters"):
        output_layer(torch.nn.ReLU())


def test_recipes():
    fast = fast_config("cpu")
    assert fast.num_epochs <= 2 and fast.optimizer == "muon" and fast.max_shift == 0 and fast.distortion is None
    assert fast.bf16 == bf16_supported("cpu") and fast.evals_per_epoch == 1
    assert fast_config("cpu", evals_per_epoch=2).evals_per_epoch == 2
    assert classic_config().num_epochs == 12 and classic_config(num_epochs=1).num_epochs == 1
    # the shipped checkpoints' recipes
    assert distorted_config() == TrainConfig(num_epochs=24, max_shift=0, distortion=Distortion().scaled(0.75))
    assert undistorted_config() == TrainConfig(num_epochs=12, max_shift=0)
    assert classic_config() == TrainConfig(num_epochs=12, lr=1e-2, max_shift=1)


def test_the_glossary_and_the_readme_state_the_fast_recipe_as_it_is():
    """Pages that no chapter runs quote the recipe's numbers: they must follow fast_config."""
    root = Path(__file__).resolve().parent.parent
    fast = fast_config("cpu")
    glossary = " ".join((root / "book" / "glossary.md").read_text().split())  # lines joined
    assert f"ε = {fast.label_smoothing:g} in the course's fast recipe" in glossary
    assert f"label_smoothing={fast.label_smoothing:g}" in glossary
    assert f"over {fast.warmup:.0%} of the steps in the course's fast recipe" in glossary
    readme = " ".join((root / "README.md").read_text().split())
    iterations = {3: "three", 5: "five"}[fast.muon_ns_steps]
    assert not fast.muon_output
    assert (f"with Muon (`lenet_course.optim`: each weight matrix stepped along the orthogonalised momentum of its "
            f"gradients, {iterations} Newton-Schulz iterations a step) at a peak of {fast.muon_lr:g} and Adam for "
            f"the biases and the output layer at {fast.lr:g}, a {fast.warmup:.0%} warm-up, label smoothing "
            f"{fast.label_smoothing:g} and batches of {fast.batch_size};") in readme
    assert fast.num_epochs == 1 and "and one epoch of one-cycle training with Muon" in readme


def test_half_epoch_measurements_leave_the_training_unchanged():
    """Measuring each half epoch gives twice the entries, at 0.5, 1.0, ... epochs, and the same
    trained weights as measuring each epoch: a half epoch ends on a batch boundary."""
    data = toy_data(n=1000)  # 333 training images: 11 batches of 32, the sixth across n / 2
    runs = {}
    for evals in (1, 2):
        config = TrainConfig(num_epochs=2, batch_size=32, evals_per_epoch=evals, max_shift=0)
        runs[evals] = fit(LeNet5, data, config, device="cpu", progress=False)
    by_epoch, by_half = runs[1], runs[2]
    assert by_epoch.epochs == [1, 2] and by_half.epochs == [0.5, 1.0, 1.5, 2.0]
    assert len(by_half.val_acc) == len(by_half.train_loss) == len(by_half.epoch_time_s) == 4
    assert by_half.val_acc[1::2] == by_epoch.val_acc
    assert torch.equal(by_half.model.c1.weight, by_epoch.model.c1.weight)


def test_half_epochs_end_on_a_batch_boundary_and_the_ramp_sets_their_batch_sizes():
    plain = TrainConfig(batch_size=256, evals_per_epoch=2)
    assert plain.parts_per_epoch == 2
    assert plain.part_bounds(55_000, 0) == (0, 108 * 256) and plain.part_bounds(55_000, 1) == (108 * 256, 55_000)
    assert TrainConfig().parts_per_epoch == 1 and TrainConfig().part_bounds(55_000, 0) == (0, 55_000)
    ramp = TrainConfig(batch_size=256, batch_ramp=(128, 64))  # halves even when measured by epochs
    assert ramp.parts_per_epoch == 2
    assert [ramp.batch_size_at(part) for part in range(4)] == [128, 64, 256, 256]
    assert ramp.part_bounds(1000, 0) == (0, 512) and ramp.part_bounds(1000, 2) == (0, 512)


def test_fit_follows_the_batch_ramp_and_anneals_over_all_its_steps(monkeypatch):
    data = toy_data(n=960)  # 320 training images
    config = TrainConfig(num_epochs=1.5, batch_size=64, batch_ramp=(16,), evals_per_epoch=2, max_shift=0,
                         label_smoothing=0.1, warmup=0.2)
    sizes, rates = [], []
    original = torch.optim.Adam.step

    def recording_step(self, *args, **kwargs):
        rates.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", recording_step)
    model = LeNet5()
    model.register_forward_pre_hook(lambda module, args: sizes.append(len(args[0])) if module.training else None)
    history = fit(model, data, config, device="cpu", progress=False)
    assert history.epochs == [0.5, 1.0, 1.5]
    # the first half epoch (160 images) in 16s; then 64s: 160 images, then the next epoch's first
    # half, which ends at the first boundary of 64 at or after 160
    assert sizes == [16] * 10 + [64, 64, 32] + [64, 64, 64]
    assert len(rates) == 16 and max(rates) == pytest.approx(config.lr, rel=0.05)
    assert 0 < rates.index(max(rates)) < 5  # the warm-up is 20% of the 16 steps
    assert rates[-1] < config.lr / 100  # annealed to almost zero at the very last step


def test_label_smoothing_needs_cross_entropy_and_configs_check_their_new_fields():
    data = toy_data()
    with pytest.raises(ValueError, match="label_smoothing"):
        fit(LeNet5(), data, TrainConfig(num_epochs=1, label_smoothing=0.1), device="cpu", progress=False,
            loss_fn=lambda logits, y: F.cross_entropy(logits, y))
    with pytest.raises(ValueError, match="half epochs"):
        TrainConfig(num_epochs=1.5)  # measured by epochs, it must stop at a whole epoch
    with pytest.raises(ValueError, match="evals_per_epoch"):
        TrainConfig(evals_per_epoch=3)
    with pytest.raises(ValueError, match="warmup"):
        TrainConfig(warmup=1.0)
    with pytest.raises(ValueError, match="batch sizes"):
        TrainConfig(batch_ramp=(0,))
    assert TrainConfig(num_epochs=1.5, evals_per_epoch=2).num_epochs == 1.5


def test_predict_logits_restores_training_mode():
    model = LeNet5().train()
    logits = predict_logits(model, toy_data().X_test)
    assert model.training and logits.shape[1] == 10


def test_features_of_matches_the_model_in_batches():
    model = LeNet5()
    X = toy_data().X_test
    with torch.no_grad():
        expected = model.features(X)
    assert torch.allclose(features_of(model, X, batch_size=7), expected, atol=1e-6)


def test_one_cycle_warms_up_over_two_steps_at_least():
    # 20 steps with a 5% warm-up is one step, which PyTorch's OneCycleLR divides by zero over
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = one_cycle(optimizer, total_steps=20, warmup=0.05)
    rates = []
    for _ in range(20):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[0] == pytest.approx(0.01 / 25) and rates[1] == pytest.approx(0.01)  # up, then the peak
    assert all(a > b for a, b in zip(rates[1:], rates[2:]))  # then down to the end
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    long_run, rates = one_cycle(optimizer, total_steps=200, warmup=0.05), []
    for _ in range(200):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        long_run.step()
    assert max(range(200), key=rates.__getitem__) == 9  # the peak after 5% of 200 steps, as asked
    with pytest.raises(ValueError, match="at least 3 optimiser steps"):
        one_cycle(optimizer, total_steps=2, warmup=0.3)
