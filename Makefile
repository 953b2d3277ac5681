# onesig_nb — the two commands a user needs are `make lab` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
WORKSPACE ?= workspace
STAMP  := $(VENV)/.installed

.PHONY: lab app test test-unit test-notebooks notebooks bench bench-quick lint format install clean contract

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,app]'
	touch $(STAMP)

install: $(STAMP)

## lab: the main job. Sample workspace + sandbox + JupyterLab on notebooks/ (Ctrl-C stops all).
lab: $(STAMP)
	$(BIN)/onesig-nb lab --workspace $(WORKSPACE) --notebooks notebooks

## app: 01-quickstart as a Voilà app (no code shown), against the sandbox.
app: $(STAMP)
	$(BIN)/onesig-nb lab --workspace $(WORKSPACE) --notebooks notebooks --voila 01-quickstart.ipynb

## test: the whole suite (unit, reliability, browser, notebooks). Non-zero on any failure,
## including pytest's exit code 5 (nothing collected).
test: $(STAMP)
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-notebooks

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure"; fi; exit $$rc

# Notebooks run top to bottom in fresh kernels, against a sandbox each starts itself, on a sample
# workspace and Jupyter/IPython state in a temporary folder (never the user's ~/.jupyter).
test-notebooks: $(STAMP)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	ONESIG_NB_WORKSPACE="$$tmp/workspace" ONESIG_NB_CACHE_DIR="$$tmp/archive-cache" \
	IPYTHONDIR="$$tmp/ipython" \
	JUPYTER_CONFIG_DIR="$$tmp/jupyter-config" JUPYTER_DATA_DIR="$$tmp/jupyter-data" \
	JUPYTER_RUNTIME_DIR="$$tmp/jupyter-runtime" MPLBACKEND=Agg \
	$(BIN)/python -m pytest -p nbval --nbval-lax --nbval-current-env -o addopts="" \
	  --timeout 900 notebooks/; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no notebooks: that is a failure"; fi; exit $$rc

## notebooks: rebuild each notebooks/NN-*.ipynb from its jupytext source NN-*.py, run it offline
## (a sandbox it starts itself, a temporary workspace, no key) and keep only clean "keep-output"
## outputs. Edit the .py sources (or the pairs in `make lab`), then run this.
notebooks: $(STAMP)
	$(BIN)/python -m tests.notebooks.nbtools --execute

## bench: every benchmark at full size; writes bench/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python -m bench --size full --write bench/RESULTS.md

bench-quick: $(STAMP)
	$(BIN)/python -m bench --size quick

## contract: the same request/response checks against the sandbox and, when
## ONESIGNAL_CONTRACT_APP_ID and ONESIGNAL_CONTRACT_API_KEY name a test app, against real OneSignal.
contract: $(STAMP)
	$(BIN)/python -m pytest tests/contract -ra -v

## lint: code style (ruff) and the architecture (import-linter layers, see pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check onesig_nb tests bench notebooks
	$(BIN)/ruff format --check onesig_nb tests bench
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff check --fix onesig_nb tests bench
	$(BIN)/ruff format onesig_nb tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis test-artifacts
