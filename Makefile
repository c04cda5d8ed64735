# Development tasks. `make test` installs into .venv first when setup.py or constraints.txt
# changed since the last install.

PYTHON ?= python3
VENV = .venv
STAMP = $(VENV)/.installed

.PHONY: install test clean

install: $(STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# The stamp is newer than setup.py and constraints.txt only after a successful install.
$(STAMP): setup.py constraints.txt | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --upgrade pip
	$(VENV)/bin/python -m pip install -c constraints.txt -e ".[test]"
	touch $@

test: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(VENV)/bin/python -m pytest -q tests

# Keeps .venv: rebuilding it downloads TensorFlow again.
clean:
	rm -rf build dist *.egg-info .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
