# colorgan — `make train` trains on the embedded data, `make test` runs the test suite.
# Both create or refresh the virtual environment first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# torch/torchvision pinned for reproducible installs here; pyproject keeps loose ranges for users
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1
ARGS ?=

.PHONY: help install train app test test-fast lint format clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_PINS)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create/refresh .venv with colorgan and its dev tools

train: install  ## train the default colorizer on the embedded synthetic landscapes (a few CPU minutes)
	WANDB_SILENT=true $(PY) -m colorgan.train experiment=quick_cpu $(ARGS)

app: install  ## the web app on http://127.0.0.1:7860 (default: the newest run); ARGS="RUN... --photos DIR"
	$(PY) -m colorgan.app $(ARGS)

test: install  ## run the whole test suite (about 11 minutes on 2 cores, incl. a headless-browser test)
	WANDB_MODE=disabled $(PY) -m pytest -q $(ARGS)

test-fast: install  ## skip the slow (multi-process, notebook) tests
	WANDB_MODE=disabled $(PY) -m pytest -q -m "not slow" $(ARGS)

lint: install  ## ruff check
	$(VENV)/bin/ruff check src tests notebooks

format: install  ## ruff format + import sorting
	$(VENV)/bin/ruff check --fix src tests notebooks
	$(VENV)/bin/ruff format src tests

clean:  ## remove caches (keeps .venv and outputs/)
	rm -rf .pytest_cache .ruff_cache build dist
