# One command to set up and test, one to see the toolkit work.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: install test test-all demo bench clean

# Editable install with every extra the tests and the demo use; redone only when pyproject.toml changes (the
# stamp records the last install).
install: .install-stamp

.install-stamp: pyproject.toml
	$(PIP) install -q -e ".[train,dev,demo,english,plot,onnx,cluster]"
	touch $@

# Fast tests (what a developer runs after every change).
test: install
	$(PYTHON) -m pytest -q -m "not slow" tests

# Everything, slow end-to-end tests included (what CI runs), with the 15 slowest listed: the suite must stay under
# 30 minutes.
test-all: install
	$(PYTHON) -m pytest -q --durations=15 tests

demo: install
	bash recipes/mini/run.sh

bench: install
	$(PIP) install -q -e ".[dev,bench]"
	$(PYTHON) bench/features.py
	$(PYTHON) bench/decode.py

clean:
	rm -rf .pytest_cache .hypothesis build *.egg-info .install-stamp
