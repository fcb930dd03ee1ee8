# astro-interpret: two commands on a fresh machine: `make demo` and `make test`.
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
# torch is installed first and pinned to the local CPU wheel: a looser requirement resolved on its own
# downloads a multi-GB CUDA build (measured: torch 2.14.1 + 5.5 GB of CUDA libraries).
TORCH   ?= torch==2.13.0
# PICZL (ip.zoo.piczl, ip.datasets.piczl_demo) is a data package here: its trained Keras weights and demo
# galaxies. --no-deps: its declared dependencies pull TensorFlow, which nothing here uses (Keras 3 runs the
# models on torch).
PICZL   ?= piczl==0.1.4
STAMP   := $(VENV)/.installed
JOBS    ?= 2

.PHONY: install demo test test-all bench figures lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e '.[dev,dask,keras]'
	$(BIN)/python -m pip install --quiet --no-deps "$(PICZL)"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	MPLBACKEND=Agg $(BIN)/interpret demo

test: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) --dist loadgroup -m "not slow" --doctest-modules interpret tests

test-all: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n $(JOBS) --dist loadgroup --doctest-modules interpret tests

bench: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m benchmarks.run_all

figures: $(STAMP)
	MPLBACKEND=Agg $(BIN)/interpret figures

lint: $(STAMP)
	$(BIN)/ruff check interpret tests analyses benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
