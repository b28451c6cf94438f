import math
import re
import subprocess
import sys
from pathlib import Path

from lenet_course import bench

LAST_LINE = re.compile(
    r"^time_to_99_speedup=(\S+) epoch_speedup=(\S+) course_epoch_s=(\S+) tutorial_epoch_s=(\S+) "
    r"course_time_to_99_s=(\S+) tutorial_time_to_99_s=(\S+)$")


def test_summarise_finds_the_first_epoch_at_the_target():
    s = bench.summarise({"epoch_times": [10.0, 12.0, 11.0], "accuracies": [0.98, 0.991, 0.993],
                         "images": 60_000, "peak_memory_mb": 100.0})
    assert s["time_to_target_s"] == 22.0 and s["epoch_s"] == 11.0 and s["final_accuracy"] == 0.993
    assert s["images_per_s"] == 60_000 / 11.0
    never = bench.summarise({"epoch_times": [1.0], "accuracies": [0.5], "images": 10, "peak_memory_mb": 1.0})
    assert math.isnan(never["time_to_target_s"])


def test_report_puts_both_pipelines_side_by_side_with_ratios():
    tutorial = {"epoch_s": 16.0, "images_per_s": 3750.0, "time_to_target_s": 128.0, "final_accuracy": 0.9901,
                "epochs": 8, "peak_memory_mb": 900.0}
    course = {"epoch_s": 2.0, "images_per_s": 30000.0, "time_to_target_s": 8.0, "final_accuracy": 0.9905,
              "epochs": 4, "peak_memory_mb": 1200.0}
    report = bench.format_report(tutorial, course)
    assert "tutorial" in report.splitlines()[0] and "course" in report.splitlines()[0]
    values = LAST_LINE.match(report.splitlines()[-1]).groups()
    assert [float(v) for v in values] == [16.0, 8.0, 2.0, 16.0, 8.0, 128.0]


def test_quick_benchmark_runs_and_prints_the_machine_readable_line():
    done = subprocess.run([sys.executable, "-m", "lenet_course.bench", "--quick", "--device", "cpu"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert "seconds per epoch" in done.stdout and "time to 99.0% test accuracy" in done.stdout
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
