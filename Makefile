# reformsim: `make run` and `make test` on a fresh clone do all the set-up.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
OUT     ?= results/default

.PHONY: run test bench bench-sweep calibrate clean serve

## the browser test drives Debian's Chromium (tests/test_page.py); installed here if missing
CHROMIUM := /usr/bin/chromium
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

## the default comparison: today's law against the expert group's reform, results and charts in $(OUT)
run: $(STAMP)
	$(BIN)/reformsim compare baseline expert_group --out $(OUT)

test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest tests

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "make: the browser test needs Chromium at $(CHROMIUM) (Debian package chromium)"; exit 1; }
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium

## the local browser page: http://127.0.0.1:8765/ (PORT=..., HOST=... to change)
PORT    ?= 8765
HOST    ?= 127.0.0.1
serve: $(STAMP)
	$(BIN)/reformsim serve --port $(PORT) --host $(HOST)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

## sweep throughput: full-scale comparisons per minute on 1 and 2 local Dask workers
bench-sweep: $(STAMP)
	$(BIN)/python benchmarks/bench_sweep.py

calibrate: $(STAMP)
	$(BIN)/reformsim calibrate --out results/calibration

## results, and numba's cache (it notices a change of a compiled function's own file only, not of
## sim/layout.py, sim/rng.py or sim/states.py whose constants it compiles in)
clean:
	rm -rf results .pytest_cache
	find sim -name '*.nbi' -delete -o -name '*.nbc' -delete
