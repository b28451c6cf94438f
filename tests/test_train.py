import pytest
import torch

from lenet_course.data import MNIST, MNIST_MEAN, MNIST_STD
from lenet_course.models import LeNet5
from lenet_course.train import History, TrainConfig, choose_device, evaluate, fit, predict, random_shift, set_seed


def toy_data(n=512):
    """Two easy classes: a bright left half (0) or a bright right half (1)."""
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (n,), generator=g)
    X = torch.full((n, 1, 32, 32), -1.0)
    X[y == 0, :, :, :16] = 2.0
    X[y == 1, :, :, 16:] = 2.0
    X += 0.1 * torch.randn(X.shape, generator=g)
    return MNIST(X[: n // 2], y[: n // 2], X[n // 2:], y[n // 2:])


def test_fit_learns_and_records_a_history():
    data = toy_data()
    history = fit(LeNet5(), data, TrainConfig(num_epochs=3, batch_size=32, lr=3e-3), device="cpu", progress=False)
    assert len(history.train_loss) == len(history.test_acc) == len(history.epoch_time_s) == 3
    assert history.epochs == [1, 2, 3]
    assert history.test_acc[-1] == 1.0
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.time_to(1.0) is not None and history.time_to(1.01) is None


def test_fit_is_repeatable_with_the_same_seed():
    data = toy_data()
    runs = []
    for _ in range(2):
        set_seed(1)
        model = LeNet5()
        fit(model, data, TrainConfig(num_epochs=1, batch_size=64, seed=1), device="cpu", progress=False)
        runs.append(model.c1.weight.detach().clone())
    assert torch.equal(runs[0], runs[1])


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
    h = History(test_acc=[0.98, 0.991, 0.995], epoch_time_s=[2.0, 3.0, 4.0])
    assert h.time_to(0.99) == 5.0
    assert h.time_to(0.999) is None


def test_config_rejects_nonsense():
    with pytest.raises(ValueError):
        TrainConfig(num_epochs=0)
    with pytest.raises(ValueError):
        TrainConfig(schedule="cosine")


def test_choose_device():
    assert choose_device("cpu").type == "cpu"
    assert choose_device().type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            choose_device("cuda")


def test_random_shift_moves_whole_images_and_fills_background():
    X = torch.full((64, 1, 32, 32), -MNIST_MEAN / MNIST_STD)
    X[:, :, 15, 15] = 5.0
    shifted = random_shift(X, 2, generator=torch.Generator().manual_seed(0))
    assert shifted.shape == X.shape
    positions = (shifted[:, 0] == 5.0).flatten(1).float().argmax(1)
    rows, cols = positions // 32, positions % 32
    assert rows.min() >= 13 and rows.max() <= 17 and cols.min() >= 13 and cols.max() <= 17
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 5
    assert torch.equal(random_shift(X, 0), X)


def test_fit_without_a_test_set_records_nan_and_evaluate_refuses_empty_input():
    data = toy_data()
    empty = MNIST(data.X_train, data.y_train, data.X_test[:0], data.y_test[:0])
    history = fit(LeNet5(), empty, TrainConfig(num_epochs=1, batch_size=64), device="cpu", progress=False)
    assert len(history.test_acc) == 1 and history.test_acc[0] != history.test_acc[0]  # nan
    with pytest.raises(ValueError, match="at least one image"):
        evaluate(LeNet5(), data.X_test[:0], data.y_test[:0])


def test_features_of_matches_the_model_in_batches():
    from lenet_course.train import features_of

    model = LeNet5()
    X = toy_data().X_test
    with torch.no_grad():
        expected = model.features(X)
    assert torch.allclose(features_of(model, X, batch_size=7), expected, atol=1e-6)
