# The book's commands. `make test` and `make book` set up .venv the first time.
#   make venv   create .venv and install the project with every extra (quick when up to date)
#   make test   the full suite, as CI runs it: unit tests, doctests, the browser test, and every
#               chapter on small parameters (the tests marked `notebook`). It deselects the tests
#               marked `slow`: chapters flagged `slow: true` in tests/notebook_params.yaml; none
#               is today, so it runs everything (pytest -m slow runs the slow ones alone)
#   make test-fast  the same without running any chapter (-m "not notebook"): a few minutes
#   make book   execute every chapter on the bundled data, then build the HTML book in _build/html
#               (make book DATA_DIR=data/recordings: on your own recordings instead)
#   make lab    JupyterLab on notebooks/; a double-click opens a chapter .py as a notebook
#               (.jupyter/lab/settings/overrides.json, copied into .venv); --allow-root as root
#   make lint   ruff check and ruff format --check
#   make bench  run every benchmarks/*.py
#   make clean  remove build outputs (make distclean also removes .venv)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
EXTRAS := ml,deep,acquisition,batch,book,dev
STAMP := $(VENV)/.installed
PYTEST_FLAGS ?= -m "not slow" -q --durations=10
FAST_FLAGS ?= -m "not notebook and not slow" -q --durations=10
BOOK_FLAGS ?= -W --keep-going
CHAPTER_FLAGS ?=
DATA_DIR ?=
LAB_FLAGS ?=
# One kernel everywhere: the chapters' headers, lobutils.runner.chapters and JupyterLab all say
# name "python3", display name "Python 3", so saving a chapter leaves its header as it is.
KERNEL_NAME := python3
KERNEL_DISPLAY := Python 3
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

.PHONY: venv test test-fast book chapters lab lint format bench clean distclean

venv: $(STAMP)

# Re-installs only when pyproject.toml changes (or the stamp is missing).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -e ".[$(EXTRAS)]"
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL_NAME) --display-name "$(KERNEL_DISPLAY)"
	touch $@

test: venv
	$(PY) -m pytest $(PYTEST_FLAGS)

test-fast: venv
	$(PY) -m pytest $(FAST_FLAGS)

# Executes the chapters listed in _toc.yml into notebooks/NN_*.ipynb with papermill.
chapters: venv
	$(PY) -m lobutils.runner.chapters $(if $(DATA_DIR),--data-dir "$(DATA_DIR)") $(CHAPTER_FLAGS)

# The API pages (api/generated/) are written anew each build, so a removed module leaves none.
book: chapters
	rm -rf api/generated
	$(VENV)/bin/jupyter-book build . --config jupyter-book.yml --toc _toc.yml $(BOOK_FLAGS)
	@echo "book: $(CURDIR)/_build/html/index.html"

# Installs the lab settings (jupytext's notebook view as the default for .py files) each time.
lab: venv
	install -D -m 644 .jupyter/lab/settings/overrides.json $(LAB_SETTINGS)
	@if [ "$$(id -u)" = 0 ]; then echo "make lab: running as root, so with --allow-root"; fi
	$(VENV)/bin/jupyter lab notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_FLAGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: venv
	@set -e; found=0; for f in benchmarks/*.py; do \
		[ -e "$$f" ] || continue; found=1; \
		echo "== $$f"; $(PY) "$$f"; \
	done; [ $$found = 1 ] || echo "no benchmarks/*.py yet"

clean:
	rm -rf _build api/generated .pytest_cache .ruff_cache .hypothesis
	rm -f notebooks/*.ipynb
	[ ! -d reports ] || find reports -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
