PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1

.PHONY: run test bench openapi docs dashboard monitoring lint clean fuzz faults

$(BIN)/python:
	$(shell command -v $(PY) >/dev/null 2>&1 && echo $(PY) || echo python3) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

# app.serve empties PROMETHEUS_MULTIPROC_DIR (a fresh temporary one when WORKERS > 1 and it is unset), then
# execs uvicorn: /metrics then sums every worker. CRM_DQ_METRICS_PORT=9464 moves /metrics to that port.
run: $(VENV)/.installed
	$(BIN)/python -m app.serve --host $(HOST) --port $(PORT) --workers $(WORKERS) --loop uvloop --http httptools

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

# Schemathesis against a real uvicorn on loopback (SQLite in a temporary directory), every operation and phase:
# no 5xx, and every status, media type and body as documented. FUZZ_EXAMPLES per operation and phase,
# FUZZ_SECONDS for the whole run (fuzzing and stateful testing repeat until it is spent), FUZZ_SEED to replay.
FUZZ_EXAMPLES ?= 50
FUZZ_SECONDS ?= 300
fuzz: $(VENV)/.installed-dev
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python -m tests.fuzz.run

# Faults against real uvicorns (tests/faults): hostile bodies, SIGTERM during a batch, PostgreSQL stopped and
# restarted (a throwaway cluster of its own), eight clients upserting overlapping index ids for
# CONCURRENCY_SECONDS (20 here; `make test` uses 5) on SQLite and, with TEST_DATABASE_URL, PostgreSQL.
CONCURRENCY_SECONDS ?= 20
faults: $(VENV)/.installed-dev
	CONCURRENCY_SECONDS=$(CONCURRENCY_SECONDS) $(BIN)/python -m pytest -q -s tests/faults

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/score_bench.py

docs: $(VENV)/.installed
	$(BIN)/python -m app.scoring.catalogue > docs/RULES.md

openapi: $(VENV)/.installed
	$(BIN)/python -m app.openapi_export > openapi/openapi.json

dashboard: $(VENV)/.installed-dev
	$(BIN)/python deploy/grafana/dashboard.py > deploy/grafana/dashboards/crm-dq.json

monitoring:
	docker compose -f deploy/docker-compose.yml up --build

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check app tests bench deploy

clean:
	rm -rf $(VENV) data .pytest_cache
