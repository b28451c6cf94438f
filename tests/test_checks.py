from torch import nn

from lenet_course import checks
from lenet_course.models import LeNet5


def test_output_size_checker_accepts_right_and_rejects_wrong(capsys):
    assert checks.check_output_size(lambda n, k, stride=1, padding=0: (n + 2 * padding - k) // stride + 1)
    assert "Correct" in capsys.readouterr().out
    assert not checks.check_output_size(lambda n, k, stride=1, padding=0: n - k)
    assert "Not yet" in capsys.readouterr().out
    assert not checks.check_output_size(lambda n, k: n - k + 1)  # forgets stride and padding


def test_parameter_count_checker(capsys):
    assert checks.check_parameter_count("c1", 156)
    assert not checks.check_parameter_count("c1", 150)
    assert not checks.check_parameter_count("s2", 0)
    assert "no parameters" in capsys.readouterr().out


def test_model_checker():
    assert checks.check_lenet5(LeNet5())
    assert not checks.check_lenet5(nn.Sequential(nn.Flatten(), nn.Linear(1024, 10)))
    assert not checks.check_lenet5(nn.Sequential(nn.Flatten(), nn.Linear(1024, 5)))
    assert not checks.check_lenet5(nn.Linear(3, 3))


def test_flatten_size_checker():
    def right(n):
        for _ in range(2):
            n = (n - 5 + 1) // 2
        return 16 * n * n

    assert checks.check_flatten_size(right)
    assert not checks.check_flatten_size(lambda n: 400)  # typed in: right only for 32
    assert not checks.check_flatten_size(lambda n: 1 / 0)


def test_receptive_field_checker(capsys):
    assert checks.check_receptive_field("c3", 14)
    assert not checks.check_receptive_field("c3", 10)
    assert not checks.check_receptive_field("c7", 14)
    assert "not a layer" in capsys.readouterr().out
