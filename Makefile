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
SOURCE_TEXTS := $(wildcard data/sources/*.txt)
CLAIMS ?= data/claims.csv
DATA := $(CLAIMS) data/sources.csv data/references.csv data/citation_audit.csv $(SOURCE_TEXTS)

# The analysis notebooks, in reading order. A notebook is one line here.
NOTEBOOKS := \
  01-evidence-map \
  02-failure-rates \
  03-reoperation-revision \
  04-treatments-compared \
  05-implants-scs-pumps \
  06-after-fusion \
  08-citation-audit \
  09-statistics
# The generic comparison notebook runs once per topic. A topic is one line here.
TOPICS := \
  failure_persistent_pain \
  failure_cause \
  recurrence \
  reoperation_revision \
  treatment_outcome \
  spinal_cord_stimulation \
  intrathecal_pump \
  opioids \
  imaging_diagnosis \
  adjacent_segment

RUNS := $(NOTEBOOKS) $(addprefix 07-compare-topic--,$(TOPICS))
EXECUTED := $(addprefix build/,$(addsuffix .ipynb,$(RUNS)))
RUN := $(BIN)/python -m fbss_build.run

.PHONY: all env validate test test-fast lab report refresh-notebooks lock clean clean-env help bench fuzz

all: build/notebooks.stamp ## Set up the environment, validate the data and regenerate every figure and table

$(ENV_STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps --no-input -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-input --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))" >/dev/null
	touch $@

env: $(ENV_STAMP) ## Create .venv from requirements.lock (no other step installs anything)

build/validated.stamp: $(ENV_STAMP) $(DATA) $(ANALYSIS)
	@mkdir -p build
	$(BIN)/fbss-validate $(CLAIMS)
	touch $@

validate: $(ENV_STAMP) ## Validate a claims file: make validate CLAIMS=path
	$(BIN)/fbss-validate $(CLAIMS)

# A notebook run depends on its notebook, the package and the data. The rule of an
# out-of-date run only queues it (one small file in $(QUEUE)); build/notebooks.stamp then
# runs the queue in one runner whose workers (one per core) keep a kernel warm, so the
# analysis stack is imported once per worker, not once per notebook. The runner stages
# each run's outputs, publishes them only when the whole notebook succeeded, and writes
# build/<run>.ipynb last: a run that failed or was killed stays out of date.
QUEUE := build/queue
build/%.ipynb: notebooks/%.ipynb build/validated.stamp $(ANALYSIS)
	@$(RUN) $< --output $@ --queue $(QUEUE)
	$(run_if_asked_for)

build/07-compare-topic--%.ipynb: notebooks/07-compare-topic.ipynb build/validated.stamp $(ANALYSIS)
	@$(RUN) $< --output $@ --queue $(QUEUE) -p topic $*
	$(run_if_asked_for)

# Read by one notebook only.
build/08-citation-audit.ipynb: data/statement_audit.csv

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

# Both cores (pytest-xdist): unit tests spread one by one, a pipeline module's tests stay
# together (tests/conftest.py), and each notebook's cells run on one worker.
PYTEST := $(BIN)/python -m pytest -q -n auto
test: $(ENV_STAMP) ## Run every test, then nbval over the notebooks (CI runs exactly this)
	$(PYTEST) --dist loadgroup
	$(PYTEST) --dist loadfile --nbval --nbval-sanitize-with tests/nbval-sanitize.cfg notebooks/

test-fast: $(ENV_STAMP) ## The inner loop: the tests not marked slow (under 30 s)
	$(PYTEST) --dist loadgroup -m "not slow"

lab: $(ENV_STAMP) ## Open JupyterLab on the project's environment
	$(BIN)/jupyter lab --notebook-dir=.

# The generic notebook's stored outputs are those of its default topic (its parameters cell).
DEFAULT_TOPIC := failure_persistent_pain
refresh-notebooks: all ## Store the default runs' outputs in notebooks/ (after a deliberate change of numbers)
	$(BIN)/python -m fbss_build.run --refresh $(addprefix build/,$(addsuffix .ipynb,$(NOTEBOOKS))) \
	  build/07-compare-topic--$(DEFAULT_TOPIC).ipynb

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

report: build/report/index.html ## Render the executed notebooks and every claim's quote into build/report/ (offline HTML)

build/report/index.html: build/notebooks.stamp $(CLAIMS) data/sources.csv $(ANALYSIS) $(BUILD_CODE)
	$(BIN)/python -m fbss_build.report --build build --out build/report --claims $(CLAIMS) --sources data/sources.csv

bench: $(ENV_STAMP) ## Measure full, no-op, incremental and test runs against the single-process floor
	$(BIN)/python -m fbss_build.bench

fuzz: $(ENV_STAMP) ## Long property-based fuzzing of the loader and validator
	FBSS_FUZZ_EXAMPLES=5000 $(BIN)/python -m pytest -q tests/test_fuzz.py

clean: ## Remove what make builds (never data/, never .venv)
	rm -rf build
	rm -f figures/*.png figures/*.svg figures/*.pdf tables/*.csv
	find tables -name '*.md' ! -name README.md -delete

clean-env: ## Remove the virtual environment
	rm -rf $(VENV)

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 20
