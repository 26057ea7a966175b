# Two commands set everything up on a fresh machine:
#   make demo   create .venv, install the pinned dependencies, train an MLP on digits, diagnose it
#   make test   create .venv if needed (with the optional tensorboard and onnx extras), run the whole test suite
# Every install goes through constraints.txt, which pins torch==2.13.0 (the local CPU build).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench install clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,tensorboard,onnx]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/neuralab train examples/digits.yaml --out runs
	$(BIN)/neuralab diagnose "$$(ls -td runs/digits-mlp-20*/ | head -n 1)"

test: $(STAMP)
	bash scripts/system-deps.sh
	$(BIN)/python -m pytest

# Benchmarks against peers (installs Keras 3 from the pinned set first); see benchmarks/README.md.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,tensorboard,onnx,bench]"
	$(BIN)/python benchmarks/peers.py
	$(BIN)/python benchmarks/population.py
	$(BIN)/python benchmarks/bench_sklearn.py

clean:
	rm -rf $(VENV) runs .pytest_cache
