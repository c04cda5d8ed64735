# Development tasks. `make test` installs into .venv first when setup.py or constraints.txt
# changed since the last install.

PYTHON ?= python3
VENV = .venv
STAMP = $(VENV)/.installed

.PHONY: install test clean demo train export data benchmark evaluate app

# `make train DATASET=celeba_hq` runs experiments/$(DATASET).py; the other variables override
# the config (empty = the experiment's value). Training state lives outside the work tree.
DATASET ?= photos
MODEL_DIR ?= $(HOME)/.cache/crainpaint/runs/$(DATASET)
STEPS ?=
BATCH_SIZE ?=
DATA_DIR ?=
STAGE ?=
CHECKPOINT_DIR ?=
EXPORT_DIR ?= exported/crainpaint
# Further flags of crainpaint.export, e.g. EXPORT_FLAGS=--cra_preset=paper (the paper's CRA);
# DEMO_FLAGS and EVALUATE_FLAGS do the same for the demo and experiments/evaluate.py (the CRA
# flags are the same in every command, see docs/cli.md).
EXPORT_FLAGS ?=
DEMO_FLAGS ?=
EVALUATE_FLAGS ?=
TRAIN_FLAGS = $(if $(STEPS),--steps $(STEPS)) $(if $(BATCH_SIZE),--batch_size $(BATCH_SIZE)) \
	$(if $(DATA_DIR),--data_dir $(DATA_DIR)) $(if $(STAGE),--stage $(STAGE)) \
	$(if $(INIT_WEIGHTS),--init_weights $(INIT_WEIGHTS))

install: $(STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# The stamp is newer than setup.py and constraints.txt only after a successful install.
$(STAMP): setup.py constraints.txt | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --upgrade pip
	$(VENV)/bin/python -m pip install -c constraints.txt -e ".[test,app,beam,export]"
	touch $@

test: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(VENV)/bin/python -m pytest -q tests

# The README's first command: inpaint the bundled 4096-px photo with the bundled model.
demo: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(VENV)/bin/python -m crainpaint.demo --output_dir outputs $(DEMO_FLAGS)

# The paint-and-inpaint page on http://127.0.0.1:$(PORT)/ (docs/app.md).
PORT ?= 7860
app: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(VENV)/bin/python -m crainpaint.app --port $(PORT)

train: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(VENV)/bin/python -m crainpaint.train \
		--experiment experiments/$(DATASET).py --model_dir $(MODEL_DIR) $(TRAIN_FLAGS)

export: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(VENV)/bin/python -m crainpaint.export --export_dir $(EXPORT_DIR) \
		$(if $(CHECKPOINT_DIR),--checkpoint_dir $(CHECKPOINT_DIR)) $(EXPORT_FLAGS)

# Real photographs from Debian packages (experiments/data/README.md), outside the work tree.
data: $(STAMP)
	$(VENV)/bin/python experiments/data/fetch_photos.py

benchmark: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(VENV)/bin/python experiments/benchmark_scaling.py

evaluate: $(STAMP)
	TF_CPP_MIN_LOG_LEVEL=2 $(VENV)/bin/python experiments/evaluate.py $(EVALUATE_FLAGS)

# Keeps .venv: rebuilding it downloads TensorFlow again.
clean:
	rm -rf build dist *.egg-info .pytest_cache
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
