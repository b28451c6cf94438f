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
