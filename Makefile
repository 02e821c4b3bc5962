# Batch Normalization, from scratch to practice: set-up and course commands.
# Every target creates .venv when it is missing. Override PYTHON to choose the interpreter.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# Jupyter refuses to start as root without --allow-root (containers, CI); harmless otherwise.
export PATH := $(abspath $(BIN)):$(PATH)
LAB_FLAGS ?= --ServerApp.allow_root=True --no-browser
# make lab: the learner's working copy (git-ignored), made from the release and never overwritten.
WORK    ?= my_work
RELEASE ?= notebooks
# make book: the reading copy (HTML) goes to $(BOOK_OUT)/html; make hub keeps its state in $(HUB_STATE).
# EDITION=instructor: the reading copy with rubrics, model answers and hidden tests (never publish it)
EDITION   ?= student
BOOK_OUT  ?= _build/book$(if $(filter instructor,$(EDITION)),-instructor)
HUB_STATE ?= .hub
BOOK_STAMP := $(VENV)/.installed-book
HUB_STAMP  := $(VENV)/.installed-hub

.PHONY: lab book hub instructor test release demo bench clean-venv

$(BIN)/python:
	@echo "Making the virtual environment $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the course into $(VENV) (a few minutes the first time; only errors are shown)"
	@$(BIN)/python -m pip install --quiet --quiet -e .
	@touch $@

# make test installs every extra the suite exercises (test, book, hub, postgres), so that it passes with
# exactly what it installs; a test that needs something else (torch, bubblewrap, chromium, PostgreSQL's
# server, configurable-http-proxy) skips and says why.
$(TEST_STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the course and its test, book, hub and postgres extras into $(VENV) (only errors are shown)"
	@$(BIN)/python -m pip install --quiet --quiet -e '.[test,book,hub,postgres]'
	@touch $@ $(STAMP) $(BOOK_STAMP) $(HUB_STAMP)

## make lab: open your working copy of the course (my_work/, made from notebooks/ and never
##           overwritten) in JupyterLab, student view (no nbgrader instructor panels)
lab: $(STAMP)
	@JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter/student $(BIN)/python jupyter/lab.py \
		--release $(RELEASE) --work $(WORK) -- $(LAB_FLAGS)

$(BOOK_STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the course and its book extra into $(VENV) (only errors are shown)"
	@$(BIN)/python -m pip install --quiet --quiet -e '.[book]'
	@touch $@ $(STAMP)

$(HUB_STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing the course and its hub extra into $(VENV) (only errors are shown)"
	@$(BIN)/python -m pip install --quiet --quiet -e '.[hub]'
	@touch $@ $(STAMP)

## make book: the reading copy, a static HTML site of the executed solution notebooks
##            (Sphinx + MyST-NB; builds offline once installed), in _build/book/html;
##            make book EDITION=instructor: with rubrics and model answers, in _build/book-instructor/html
book: $(BOOK_STAMP)
	@$(BIN)/python book/build.py --out $(BOOK_OUT) --edition $(EDITION)

## make hub: the course's JupyterHub on this machine (as root; see deploy/README.md)
##          Checks the proxy, the course list and that every user can run .venv before the few
##          minutes of installing the hub extra (deploy/check_venv.py needs only the standard library).
hub: | $(BIN)/python
	@command -v configurable-http-proxy >/dev/null || { \
		echo "configurable-http-proxy is missing: npm install -g configurable-http-proxy"; exit 1; }
	@test -f deploy/roster.json || test -n "$$BN_ROSTER" || { \
		echo "no course list: copy deploy/roster.example.json to deploy/roster.json and edit it"; exit 1; }
	@$(BIN)/python deploy/check_venv.py
	@$(MAKE) --no-print-directory --silent $(HUB_STAMP)
	mkdir -p $(HUB_STATE) && cd $(HUB_STATE) && $(abspath $(BIN))/jupyterhub -f $(CURDIR)/deploy/jupyterhub_config.py

## make instructor: JupyterLab on the whole course with formgrader and Create Assignment
instructor: $(STAMP)
	$(BIN)/jupyter lab $(LAB_FLAGS)

## make test: install with the test, book, hub and postgres extras and run the whole suite
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n auto --durations=15

## make release: regenerate notebooks/ (student release) from solutions/ (nbgrader source);
##               a failing assignment changes nothing (never deletes the committed release)
release: $(STAMP)
	for dir in solutions/*/; do \
		name=$$(basename $$dir); \
		$(BIN)/python -m bn_helpers.grading generate_assignment $$name --no-db || exit 1; \
	done

## make demo: the instructor pipeline (autograde, feedback, grade table) on the sample class
demo: $(STAMP)
	$(BIN)/python -m bn_helpers.demo

## make bench: time the normalizations (ms, memory passes, ratio to torch on one thread if installed), the conv net per step
##             and each solution notebook, top to bottom; autograding a class of 40, the tool vs plain nbgrader;
##             in Chromium, each view's median from input to changed canvas pixels (at most 100 ms)
bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/bench_norms.py
	$(BIN)/python benchmarks/bench_convnet.py
	$(BIN)/python benchmarks/bench_course.py
	$(BIN)/python benchmarks/bench_grading.py
	BN_LATENCY_MS=100 BN_BROWSER_VERBOSE=1 $(BIN)/python -m pytest tests/test_browser.py -q -s -p no:randomly

clean-venv:
	rm -rf $(VENV)
