"""The package's floors: each module imports only the modules below it, and only at the top."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "lenet_course"

# Bottom to top. A module may import the modules listed before it, never one after it.
FLOORS = ["shapes", "inputs", "drawing", "data", "augment", "models", "classic", "checkpoints", "optim", "kernels",
          "train", "metrics", "unitpath", "style", "viz", "checks", "bench", "pretrain", "web"]
MODELS_KNOW_NOTHING_OF = {"data", "train", "checkpoints"}  # no files, no data, no training


def course_imports(name: str) -> list[tuple[str, bool]]:
    """(imported course module, imported inside a function?) for each import in ``name``."""
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom) and child.level == 1:
                if child.module:
                    found.append((child.module.split(".")[0], inside))
                else:
                    found.extend((alias.name, inside) for alias in child.names)
            visit(child, inside)

    visit(tree, False)
    return found


def test_every_module_has_a_floor():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(FLOORS)


def project_version() -> str:
    """The course's version, as pyproject.toml states it (the one place it is typed)."""
    return re.search(r'^version = "(.+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)


def test_the_package_lists_every_module_and_the_released_version():
    """``__all__`` names every module; ``__version__`` is pyproject.toml's version."""
    init = ast.parse((PACKAGE / "__init__.py").read_text())
    values = {t.id: ast.literal_eval(node.value) for node in init.body if isinstance(node, ast.Assign)
              for t in node.targets}
    assert sorted(values["__all__"]) == sorted(FLOORS)
    assert values["__version__"] == project_version()


@pytest.mark.parametrize("name", FLOORS)
def test_imports_go_down_only_and_sit_at_the_top(name):
    below = set(FLOORS[:FLOORS.index(name)])
    for module, in_function in course_imports(name):
        assert module in below, f"{name} imports {module}, which is not below it"
        assert not in_function, f"{name} imports {module} inside a function"


@pytest.mark.parametrize("name", ["models", "classic"])
def test_models_know_no_files_data_or_training(name):
    assert not {m for m, _ in course_imports(name)} & MODELS_KNOW_NOTHING_OF


def test_the_readme_lists_every_module_in_floor_order():
    """The README's module table is the map of the package: every module, bottom floor first."""
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| module | what it holds |"):]
    listed = re.findall(r"^\| `(\w+)` \|", table.split("\n\n")[0], re.M)
    assert listed == FLOORS
