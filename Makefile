# fbss-evidence: `make` sets everything up and regenerates every figure and table;
# `make test` runs the whole test suite. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ENV_STAMP := $(VENV)/.installed
KERNEL := fbss-evidence

# The analysis package (what notebooks import) and the build machinery (runner, report,
# benchmark). Notebook runs depend on the analysis package only: editing the build wing
# reruns nothing.
ANALYSIS := $(shell find src/fbss_evidence -name '*.py' -not -path '*/__pycache__/*')
BUILD_CODE := $(shell find src/fbss_build -name '*.py' -not -path '*/__pycache__/*')

# The data: every table of DATA_DIR (data/, or a copy of it to try changes on), with
# CLAIMS instead of its claims.csv when given: `make DATA_DIR=path` / `make CLAIMS=path`.
DATA_DIR ?= data
CLAIMS ?=
DATA_FILES := $(shell find $(DATA_DIR) -type f \( -name '*.csv' -o -name '*.txt' \) -not -path '*/extraction/*') $(CLAIMS)
DATA_ARGS := $(if $(CLAIMS),$(CLAIMS)) --data $(DATA_DIR)
DATA_PARAMS := -p data_dir $(abspath $(DATA_DIR)) $(if $(CLAIMS),-p claims_path $(abspath $(CLAIMS)))
# Which data the build last used. Rewritten only when it changes, so switching DATA_DIR or
# CLAIMS (and back) reruns everything that reads the data, even when the files are older.
DATA_CHOICE := build/data-choice
$(shell mkdir -p build && echo '$(DATA_PARAMS)' | cmp -s - $(DATA_CHOICE) || echo '$(DATA_PARAMS)' > $(DATA_CHOICE))

# The analysis notebooks, in reading order. A notebook is one line here.
NOTEBOOKS := \
  01-evidence-map \
  02-failure-rates \
  03-reoperation-revision \
  04-treatments-compared \
  05-implants-scs-pumps \
  06-after-fusion \
  08-citation-audit \
  09-statistics \
  11-summary-of-findings \
  12-claim-verdicts
# The generic comparison notebook runs once per topic some claim gives a rate on, and the literature
# notebook once per question of questions.csv: both lists are read from the data (fbss_evidence.runs,
# standard library only, so the system Python runs it before .venv exists) into build/runs.mk, which
# make rewrites, and reads again, whenever the data changes. A new question is one row of questions.csv.
RUN_LISTS := build/runs.mk
include $(RUN_LISTS)
$(RUN_LISTS): $(wildcard $(DATA_DIR)/questions.csv $(or $(CLAIMS),$(DATA_DIR)/claims.csv)) $(DATA_CHOICE) \
  src/fbss_evidence/runs.py src/fbss_evidence/vocab.py
	PYTHONPATH=src $(PYTHON) -m fbss_evidence.runs --data $(DATA_DIR) $(if $(CLAIMS),--claims $(CLAIMS)) --output $@

RUNS := $(NOTEBOOKS) $(addprefix 07-compare-topic--,$(TOPICS)) $(addprefix 10-claims-vs-literature--,$(QUESTIONS))
EXECUTED := $(addprefix build/,$(addsuffix .ipynb,$(RUNS)))
RUN := $(BIN)/python -m fbss_build.run

.PHONY: all env validate test test-fast lint lab run report refresh-notebooks lock clean clean-env help bench fuzz \
  datapackage new-source candidates

all: build/notebooks.stamp figures/README.md ## Set up the environment, validate the data and regenerate every figure and table

# figures/README.md lists every figure with a thumbnail (src/fbss_build/gallery.py); rewritten whenever one changes.
figures/README.md: build/notebooks.stamp $(wildcard figures/*.png figures/*.svg) $(wildcard notebooks/*.ipynb) src/fbss_build/gallery.py
	$(BIN)/python -m fbss_build.gallery

$(ENV_STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps --no-input -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-input --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))" >/dev/null
	touch $@

env: $(ENV_STAMP) ## Create .venv from requirements.lock (no other step installs anything)

# Every rule of every table, cross-table ones included, before any notebook runs.
build/validated.stamp: $(ENV_STAMP) $(DATA_FILES) $(DATA_CHOICE) $(ANALYSIS)
	$(BIN)/fbss-validate $(DATA_ARGS)
	touch $@

validate: $(ENV_STAMP) ## Validate the data: make validate [DATA_DIR=folder] [CLAIMS=file]
	$(BIN)/fbss-validate $(DATA_ARGS)

# A notebook run depends on its notebook, the package and the data. The rule of an
# out-of-date run only queues it (one small file in $(QUEUE)); build/notebooks.stamp then
# runs the queue in one runner whose workers (one per core) keep a kernel warm. The runner
# stages every run and publishes the batch only if all of it succeeded (src/fbss_build/run.py).
QUEUE := build/queue
# Notebook 11 also reads the two readers' own judgements (their agreement): extraction/ is not validated data.
build/11-summary-of-findings.ipynb: $(wildcard $(DATA_DIR)/literature/extraction/eligibility/r*.csv \
  $(DATA_DIR)/literature/extraction/risk_of_bias/r*.csv)
build/%.ipynb: notebooks/%.ipynb build/validated.stamp $(ANALYSIS)
	@$(RUN) $< --output $@ --queue $(QUEUE) $(DATA_PARAMS)
	$(run_if_asked_for)

build/07-compare-topic--%.ipynb: notebooks/07-compare-topic.ipynb build/validated.stamp $(ANALYSIS)
	@$(RUN) $< --output $@ --queue $(QUEUE) $(DATA_PARAMS) -p topic $*
	$(run_if_asked_for)

build/10-claims-vs-literature--%.ipynb: notebooks/10-claims-vs-literature.ipynb build/validated.stamp $(ANALYSIS)
	@$(RUN) $< --output $@ --queue $(QUEUE) $(DATA_PARAMS) -p question $*
	$(run_if_asked_for)

# `make build/<run>.ipynb` asked for by name runs its queue at once.
run_if_asked_for = $(if $(filter $@,$(MAKECMDGOALS)),$(RUN) --run-queue $(QUEUE))

# Workers: one per core this process may use, or JOBS=N.
JOBS ?=
build/notebooks.stamp: $(EXECUTED)
	$(RUN) --run-queue $(QUEUE) $(if $(JOBS),--jobs $(JOBS))
	touch $@

# A figure or table deleted by hand is made again: each run lists what it published in
# build/<run>.outputs, and a run one of whose files is missing is out of date. Make reads
# the lists itself, so checking costs no process.
missing_outputs = $(strip $(foreach f,$(file < build/$(1).outputs),$(if $(wildcard $(f)),,$(f))))
$(foreach run,$(RUNS),$(if $(call missing_outputs,$(run)),$(eval build/$(run).ipynb: FORCE)))
.PHONY: FORCE
FORCE:

# A new page: its text copied unchanged into data/sources/, its sources.csv row with the hash, a
# candidate sheet of every number on it in build/candidates/ID.csv and a candidate file for each table
# a new page touches beside it, build/candidates/ID-<table>.csv (docs/adding-a-source.md).
FILE ?=
ID ?=
TITLE ?=
PUBLISHER ?=
LABEL ?=
AUTHOR ?=
URL ?=
REFS ?=
# Each value single-quoted for the shell (a quote inside becomes '\''); no $(call), as a comma would split it.
quoted = '$(subst ','\'',$($(1)))'
new-source: $(ENV_STAMP) ## Add a page: make new-source FILE=page.txt ID=slug TITLE="..." PUBLISHER="..." [LABEL= AUTHOR= URL= REFS=first-last]
	@test -n "$(FILE)" && test -n "$(ID)" || { echo 'make new-source needs FILE=<page.txt> ID=<slug> TITLE="..." PUBLISHER="..." (and LABEL, AUTHOR, URL, REFS)'; exit 2; }
	$(BIN)/fbss-new-source $(call quoted,FILE) --id $(call quoted,ID) \
	  --title $(call quoted,TITLE) --publisher $(call quoted,PUBLISHER) \
	  $(if $(LABEL),--label $(call quoted,LABEL)) $(if $(AUTHOR),--author $(call quoted,AUTHOR)) \
	  $(if $(URL),--url $(call quoted,URL)) $(if $(REFS),--references $(call quoted,REFS)) --data $(DATA_DIR)

candidates: $(ENV_STAMP) ## A page's candidate files again, with what is still to enter: make candidates ID=slug
	@test -n "$(ID)" || { echo 'make candidates needs ID=<source id>'; exit 2; }
	$(BIN)/fbss-candidates $(call quoted,ID) --data $(DATA_DIR)

# One notebook with other parameters, into a folder of its own (never figures/ or tables/):
#   make run NB=07-compare-topic P="topic=opioids ci_method=clopper-pearson"
# NB is a name, a name with .ipynb or a path; P is handed over whole (the runner reads name=value pairs).
NB ?=
P ?=
run: build/validated.stamp ## Run one notebook with other parameters: make run NB=name-or-path P="name=value ..."
	@test -n "$(NB)" || { echo 'make run needs NB=<notebook>, e.g. make run NB=07-compare-topic P="topic=opioids"'; exit 2; }
	$(RUN) --adhoc $(call quoted,NB) $(DATA_PARAMS) --set $(call quoted,P)

# Both cores (pytest-xdist): unit tests spread one by one, a pipeline module's tests stay
# together (tests/conftest.py), and each notebook's cells run on one worker.
# PYTHONDONTWRITEBYTECODE (some containers set it) would also stop pytest keeping its
# rewritten test modules, so every run and every worker would rewrite them again (seconds each time).
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n auto
# Headless Chromium for the browser test of the report (tests/build/test_browser.py): installed from
# Debian's packages when it is missing (CI runs as root on a fresh machine).
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@test "$$(id -u)" = 0 || { echo "$@ is missing: install Debian's chromium package (apt-get install chromium)"; exit 1; }
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium

# The browser test loads every page of build/report, so the report (and the notebook runs it reads) is built first.
test: $(ENV_STAMP) $(CHROMIUM) build/report/index.html ## Lint, then every test, then nbval over the notebooks (CI runs exactly this)
	$(MAKE) --no-print-directory lint
	$(PYTEST) --dist loadgroup
	$(PYTEST) --dist loadfile --nbval --nbval-sanitize-with tests/nbval-sanitize.cfg notebooks/

# ruff: the linter everywhere (the notebooks through their percent twins), the formatter for the notebooks
# and the tests (pyproject.toml, [tool.ruff]).
lint: $(ENV_STAMP) ## Lint and format-check the code, notebooks and tests (ruff)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-fast: $(ENV_STAMP) ## The inner loop: the tests neither slow nor whole_data (about half a minute)
	$(PYTEST) --dist loadgroup -m "not slow and not whole_data"

# JupyterLab on the project kernel. LAB holds its options; as root (a container) it adds
# --allow-root, as JupyterLab refuses root otherwise:  make lab LAB="--port=9999 --ip=0.0.0.0"
LAB ?= --no-browser --ip=127.0.0.1 --port=8888
lab: $(ENV_STAMP) ## Open JupyterLab on the project's environment (options: LAB="...")
	$(BIN)/jupyter lab --notebook-dir=. $(LAB) $(if $(filter 0,$(shell id -u)),--allow-root)

# The generic notebook's stored outputs are those of its default topic (its parameters cell).
DEFAULT_TOPIC := failure_persistent_pain
DEFAULT_QUESTION := reoperation-after-discectomy
refresh-notebooks: all ## Store the default runs' outputs in notebooks/ (after a deliberate change of numbers)
	$(RUN) --refresh $(addprefix build/,$(addsuffix .ipynb,$(NOTEBOOKS))) \
	  build/07-compare-topic--$(DEFAULT_TOPIC).ipynb build/10-claims-vs-literature--$(DEFAULT_QUESTION).ipynb

# uv resolves pyproject.toml's dependencies (keeping the versions already pinned unless
# they must change) in a throw-away environment; rfc3987-syntax and lark are left out on
# purpose (docs/performance.md, "Start-up time").
LOCK_ENV := build/lock-env
lock: ## Re-resolve dependencies and rewrite requirements.lock (uv)
	$(PYTHON) -m venv $(LOCK_ENV)
	$(LOCK_ENV)/bin/python -m pip install --quiet uv
	echo "setuptools>=77" | $(LOCK_ENV)/bin/uv pip compile pyproject.toml - --python-version 3.11 \
	  --no-emit-package rfc3987-syntax --no-emit-package lark --no-annotate --quiet \
	  --custom-compile-command "make lock" -o requirements.lock

report: build/report/index.html ## Build the report site into build/report/ (Sphinx + myst-nb, offline; docs/report.md)

build/report/index.html: build/notebooks.stamp $(DATA_FILES) $(DATA_CHOICE) $(ANALYSIS) $(BUILD_CODE) $(wildcard src/fbss_build/site/_static/*)
	$(BIN)/python -m fbss_build.report --build build --out build/report $(DATA_ARGS)

datapackage: $(ENV_STAMP) ## Rewrite data/datapackage.json and docs/data-dictionary.md from the schema (a test fails when either is stale)
	$(BIN)/python -m fbss_build.datapackage

bench: $(ENV_STAMP) ## Measure full, no-op, incremental, test and validation runs against their baselines
	$(BIN)/python -m fbss_build.bench

fuzz: $(ENV_STAMP) ## Long property-based fuzzing of the reader and validator
	FBSS_FUZZ_EXAMPLES=5000 $(PYTEST) tests/unit/test_fuzz.py

clean: ## Remove what make builds (never data/, never .venv)
	rm -rf build
	rm -f figures/*.png figures/*.svg figures/*.pdf tables/*.csv tables/*.jsonld
	find tables -name '*.md' ! -name README.md -delete

clean-env: ## Remove the virtual environment
	rm -rf $(VENV)

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 20
