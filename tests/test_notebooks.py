"""Checks on the chapters themselves (nbval runs them; these check how they are stored and listed)."""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_structure import project_version

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def toc_files() -> list[str]:
    return re.findall(r"file:\s*(\S+)", (ROOT / "_toc.yml").read_text())


def test_there_are_chapters():
    assert NOTEBOOKS, "book/ holds no notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name} cell {i} has stored outputs; clear them before committing"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_the_table_of_contents(path):
    assert f"book/{path.stem}" in toc_files(), f"{path.name} is missing from _toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_shape(path):
    nb = json.loads(path.read_text())
    markdown = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    first = "".join(markdown[0]["source"])
    assert first.startswith("# "), f"{path.name} should open with a title"
    assert "You will learn" in first, f"{path.name} should open with what the reader will learn"
    assert "import lenet_course" in code or "from lenet_course" in code, f"{path.name} should use the course package"
    text = "".join("".join(c["source"]) for c in markdown)
    assert "## Summary" in text and "## Exercises" in text, f"{path.name} needs a summary and exercises"
    assert "assert " in code, f"{path.name} asserts none of its claims"


def test_every_toc_entry_exists():
    for entry in toc_files():
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".ipynb", ".md")), f"_toc.yml lists missing {entry}"


def test_importing_the_package_does_nothing_visible(tmp_path):
    """No files written, no output, no seeding, no matplotlib style change at import."""
    script = (
        "import os, random, matplotlib, torch; before = dict(matplotlib.rcParams); "
        "random.seed(123); torch.manual_seed(123); r = random.random(); t = torch.rand(1); "
        "random.seed(123); torch.manual_seed(123); "
        "import lenet_course, lenet_course.models, lenet_course.data, lenet_course.train, "
        "lenet_course.viz, lenet_course.shapes, lenet_course.checks; "
        "assert random.random() == r and torch.equal(torch.rand(1), t), 'import touched the seed'; "
        "assert dict(matplotlib.rcParams) == before, 'import changed matplotlib style'; "
        "assert os.listdir('.') == [], os.listdir('.')"
    )
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "MPLCONFIGDIR": str(tmp_path / "mpl")}
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run([sys.executable, "-c", script], cwd=work, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "cache").exists()


COLAB_PIN = re.compile(r"(?:lenet5-course@v|version )(\d+\.\d+\.\d+)")  # the tag installed, the version named


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_cell_is_pinned_and_hidden_on_the_website(path):
    """The first code cell installs the course's own version in Colab; the website hides it."""
    nb = json.loads(path.read_text())
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    source = "".join(first["source"])
    assert "google.colab" in source, f"{path.name}: the first code cell should be the Colab install"
    assert "remove-cell" in first.get("metadata", {}).get("tags", []), f"{path.name}: tag it remove-cell"
    pins = COLAB_PIN.findall(source)
    version = project_version()
    assert len(pins) == 2 and set(pins) == {version}, f"{path.name}: Colab names {pins}, the course is {version}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_timing_is_asserted(path):
    """Timings are printed, never asserted: a loaded machine must not fail a chapter."""
    nb = json.loads(path.read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    timed = [line.strip() for line in code.splitlines() if re.match(r"\s*assert\b", line)
             and re.search(r"(seconds|speedup|per_pass|elapsed|time_s|_time|perf_counter)\b", line)]
    assert timed == [], f"{path.name} asserts a timing: {timed[0]}"


def test_ruff_is_clean_on_the_package_the_tests_and_the_notebooks():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "lenet_course", "tests", "book"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]


# --- exercises: numbered, answered, folded wherever a learner meets them ------------------------

CHAPTERS = [ROOT / f"{entry}.ipynb" for entry in toc_files() if (ROOT / f"{entry}.ipynb").exists()]
EXERCISE = re.compile(r"^\*\*Exercise (\d+)\. ", re.M)
SOLUTION_START = '<details class="solution">\n<summary>Solution</summary>\n\n'
HIDDEN_SOLUTION = {"tags": ["hide-cell"], "cellView": "form",
                   "jupyter": {"source_hidden": True, "outputs_hidden": True}}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_exercises_are_numbered_answered_and_checked(path):
    nb = json.loads(path.read_text())
    markdown = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    numbers = [int(n) for text in markdown for n in EXERCISE.findall(text)]
    assert len(numbers) >= 3, f"{path.name} has {len(numbers)} exercises; at least 3"
    assert numbers == list(range(1, len(numbers) + 1)), f"{path.name} numbers its exercises {numbers}"
    for text in markdown:
        if EXERCISE.search(text):
            assert len(EXERCISE.findall(text)) == 1, f"{path.name}: one exercise per cell"
            assert SOLUTION_START in text and text.rstrip().endswith("</details>"), (
                f"{path.name}: exercise {EXERCISE.search(text).group(1)} needs its folded solution")
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert re.search(r"\bcheck_\w+\(", code), f"{path.name} calls no exercise checker"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_solution_or_answer_is_left_unfolded(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        meta = cell.get("metadata", {})
        tags = meta.get("tags", [])
        assert "{admonition} Solution" not in source, f"{path.name} cell {i}: a solution in a MyST block shows in Colab"
        if cell["cell_type"] != "code":
            continue
        if source.startswith("# @title Solution"):
            assert {k: meta.get(k) for k in HIDDEN_SOLUTION} == HIDDEN_SOLUTION, (
                f"{path.name} cell {i}: fold the solution")
        elif "remove-cell" in tags and "google.colab" not in source:
            assert meta.get("jupyter", {}).get("source_hidden") is True, (
                f"{path.name} cell {i}: a hidden check cell must be collapsed in the notebook too")
        if "remove-cell" not in tags and not source.startswith("# @title Solution"):
            assert not re.search(r"\b\w+_solution\(", source), f"{path.name} cell {i} shows a solution"


FIGURE_CALL = re.compile(r"plt\.subplots\(|plt\.figure\(|\b(show|plot|draw)_\w+\(|animation_html\(")
FIGURE_NAME = re.compile(r"fig-(\d\d)-[a-z0-9-]+")


def shows_a_value(source: str) -> bool:
    """Whether Jupyter would display the value of the cell's last statement (as `ax.plot(...)`
    or `fig` would); print(), display() and plt.show() return nothing, HTML(...) is the figure
    itself (an animation), and a final ";" hides the value."""
    last = ast.parse(source).body[-1]
    if not isinstance(last, ast.Expr) or source.endswith(";"):
        return False
    call = last.value if isinstance(last.value, ast.Call) else None
    name = ast.unparse(call.func) if call else ""
    return name not in {"print", "display", "plt.show", "HTML"}  # HTML(...): the figure itself


def figure_cells(path: Path) -> list[tuple[int, dict]]:
    """The code cells of a chapter that draw a figure (other than the stubs of an exercise)."""
    nb = json.loads(path.read_text())
    cells = []
    for i, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and FIGURE_CALL.search(source) and "NotImplementedError" not in source:
            cells.append((i, cell))
    return cells


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_a_name_a_caption_and_an_alt_text(path):
    """Each figure is numbered (a name for cross-references), captioned (what to look at) and
    described (one sentence for a screen reader), through myst-nb's cell metadata."""
    for i, cell in figure_cells(path):
        meta = cell["metadata"].get("mystnb", {})
        figure, image = meta.get("figure", {}), meta.get("image", {})
        where = f"{path.name} cell {i}"
        name = figure.get("name", "")
        assert FIGURE_NAME.fullmatch(name), f"{where}: figure name {name!r} should read fig-NN-what"
        assert name[4:6] == path.name[:2], f"{where}: {name} should carry the chapter's number {path.name[:2]}"
        caption, alt = figure.get("caption", "").strip(), image.get("alt", "").strip()
        assert len(caption.split()) >= 6, f"{where}: the caption should say what to look at"
        assert len(alt.split()) >= 5 and alt.endswith("."), f"{where}: the alt text should be one sentence"
        assert not re.search(r"\.(png|svg|jpe?g)\b|_images/", alt), f"{where}: the alt text is a file name"
        source = "".join(cell["source"]).rstrip()
        assert not shows_a_value(source), (
            f"{where}: ends with a value ({source.splitlines()[-1].strip()[:40]}); Jupyter would show it "
            "under the figure, and the website would wrap it as a second figure: end it with ';'")


def test_figure_names_are_unique_and_every_reference_resolves():
    names, references = [], []
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        for _, cell in figure_cells(path):
            names.append(cell["metadata"]["mystnb"]["figure"]["name"])
        text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        references += re.findall(r"\{numref\}`(?:[^`<]*<)?(fig-[\w-]+)>?`", text)
    references += re.findall(r"\{numref\}`(fig-[\w-]+)`", (ROOT / "book" / "intro.md").read_text())
    names.append("fig-architecture")  # the intro's, the course's Figure 1
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert set(references) <= set(names), set(references) - set(names)


# --- answers stay hidden, stubs are stubs, solutions state what their cells compute -------------

@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_hidden_check_cells_are_folded_in_colab_too(path):
    """A `remove-cell` check holds the answers; Colab ignores Jupyter Book's tags and
    `source_hidden`, and folds a cell only for `cellView: form` with a `# @title` line."""
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        meta = cell.get("metadata", {})
        if cell["cell_type"] != "code" or "remove-cell" not in meta.get("tags", []) or "google.colab" in source:
            continue
        where = f"{path.name} cell {i}"
        assert meta.get("jupyter", {}).get("source_hidden") is True, f"{where}: set jupyter.source_hidden"
        assert meta.get("cellView") == "form", f"{where}: set cellView: form, or Colab shows the answers"
        assert source.startswith("# @title "), f"{where}: start with a '# @title ...' line for Colab's form"


def _stubbed_functions(source: str) -> dict[str, ast.FunctionDef]:
    """The functions a cell defines and hands to a checker in that same cell."""
    tree = ast.parse(source)
    defs = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    checked = {arg.id for node in ast.walk(tree) if isinstance(node, ast.Call)
               and re.fullmatch(r"(checks\.)?check_\w+", ast.unparse(node.func))
               for arg in node.args if isinstance(arg, ast.Name)}
    return {name: node for name, node in defs.items() if name in checked}


def _raises_not_implemented(fn: ast.FunctionDef) -> bool:
    body = fn.body[1:] if ast.get_docstring(fn) is not None else fn.body
    return (len(body) == 1 and isinstance(body[0], ast.Raise)
            and ast.unparse(body[0].exc).removesuffix("()") == "NotImplementedError")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_exercise_stub_raises_not_implemented(path):
    """The learner's stubs (a function handed to a checker in its own cell) raise
    NotImplementedError and nothing else; a value the learner supplies starts as `...`."""
    nb = json.loads(path.read_text())
    stubs = 0
    for i, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] != "code" or "remove-cell" in tags or source.startswith("# @title"):
            continue
        for name, fn in _stubbed_functions(source).items():
            stubs += 1
            assert _raises_not_implemented(fn), (
                f"{path.name} cell {i}: the stub {name}() should only `raise NotImplementedError`")
        if re.search(r"#\s*your (code|answer)", source, re.I):
            assert "raise NotImplementedError" in source or re.search(r"=\s*\.\.\.", source), (
                f"{path.name} cell {i}: a stub should raise NotImplementedError (or start the value as ...)")
            stubs += 1
    assert stubs, f"{path.name} has no exercise stub for a learner to fill in"


_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+\.\d+|\d{3,})(%?)")
_RESULT = re.compile(r"(=|≈|~|\babout|\baround|\broughly)\s*[−-]?$")


def _literals(code: str) -> set[str]:
    return {m.replace("_", "") for m in re.findall(r"\d[\d_]*(?:\.\d+)?(?:e-?\d+)?", code)}


PACKAGE_LITERALS = _literals("\n".join(p.read_text() for p in (ROOT / "lenet_course").glob("*.py")))


def stated_results(text: str) -> list[str]:
    """Numbers that a solution states as results ("= 2,416", "about 1.2", "≈ 0.42%"), with
    three or more digits or a decimal point; code spans, maths and links are left out."""
    text = re.sub(r"`[^`]*`|\$[^$]*\$|\]\([^)]*\)", "", text)
    return [m.group(0) for m in _NUMBER.finditer(text) if _RESULT.search(text[max(0, m.start() - 10):m.start()])]


def _computed(number: str, literals: set[str]) -> bool:
    value = number.rstrip("%").replace(",", "")
    candidates = {value}
    if number.endswith("%"):
        fraction = float(value) / 100
        candidates |= {f"{fraction:.{d}f}".rstrip("0") for d in range(2, 7)}
    return bool(candidates & literals)


def test_stated_results_are_spotted():
    assert stated_results("16 × (150 + 1) = 2,416 parameters, about 1.2 and `x = 999`") == ["2,416", "1.2"]
    assert _computed("98.5%", {"0.985"}) and _computed("2,416", {"2416"}) and not _computed("1.2", {"12"})


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_solutions_state_only_numbers_the_chapter_computes(path):
    """A result an exercise's solution states ("= 2,416", "about 1.2") appears in the chapter's
    code, where an assert checks it (or is a constant the package defines), so no typed-in
    number can drift from what the code produces."""
    nb = json.loads(path.read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    literals = _literals(code) | PACKAGE_LITERALS
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] != "markdown" or not EXERCISE.search(text) or "<details" not in text:
            continue
        solution = text[text.index("<details"):]
        missing = [n for n in stated_results(solution) if not _computed(n, literals)]
        assert not missing, (f"{path.name} exercise {EXERCISE.search(text).group(1)}: the solution states "
                             f"{missing}, which no cell computes and asserts")


NOTEBOOK_LINE = 88  # characters: a code line this long fits the website's column at 1,366 px


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_lines_fit_the_page(path):
    """ruff holds the package to 120 characters; a reader's code is held to 88 here."""
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        for line in "".join(cell["source"]).splitlines():
            assert len(line) <= NOTEBOOK_LINE, (
                f"{path.name} cell {i}: a {len(line)}-character line scrolls sideways on the website: {line[:60]}")
