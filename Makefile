# The two commands: `make run` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint test-deps test-sqlite test-postgresql bench bench-upload bench-processing bench-cut bench-memory bench-render bench-webhooks clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

## Start the service on the embedded default (SQLite + ./.roughy), API on 127.0.0.1:8000.
run: $(STAMP)
	$(VENV)/bin/roughy serve

## Install what the tests need (ffmpeg, tus-js-client), lint, then run the suite twice:
## SQLite + SQLite queue, and PostgreSQL + Redis queue.
test: $(STAMP) test-deps lint test-sqlite test-postgresql

test-deps:
	scripts/install-test-deps.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests $(wildcard bench)
	$(VENV)/bin/ruff format --check src
	$(VENV)/bin/mypy src

## The embedded default: SQLite database, SQLite job queue.
test-sqlite: $(STAMP)
	$(VENV)/bin/pytest --db sqlite --queue sqlite

## Scale-out: PostgreSQL database, Redis job queue.
test-postgresql: $(STAMP)
	$(VENV)/bin/pytest --db postgresql --queue redis

## Roughy against @tus/server and tuspyserver, alternating, 3 rounds (docs/benchmarks.md).
bench: $(STAMP)
	$(PY) bench/upload $(ARGS)

## Throughput, CPU and memory of uploads against dd baselines (see bench/README.md).
bench-upload: $(STAMP)
	$(PY) bench/upload_bench.py $(ARGS)

## Processing time of a 100 MB and a 4 GB recording (see bench/README.md).
bench-processing: $(STAMP)
	$(PY) bench/processing_bench.py $(ARGS)

## The cut engine on generated recordings with exact labels, against a loudness gate and the
## oracle; tuned on seeds 0-99, reported on 100-199 (docs/benchmarks.md, bench/cut).
bench-cut: $(STAMP) test-deps
	$(PY) bench/cut $(ARGS)

## Peak memory of transcribing 0.5, 2 and 10 hour recordings, windowed against the whole-file
## baseline (about 30 min; see bench/README.md).
bench-memory: $(STAMP) test-deps
	$(PY) bench/memory_bench.py $(ARGS)

## Renders of a 10-minute 1080p30 source cut into ~150 spans, to mp4 and mp3, against a plain
## ffmpeg trim+concat command in the same run; then a 4 GB recording (docs/benchmarks.md).
bench-render: $(STAMP)
	$(PY) bench/render_bench.py $(ARGS)

## Webhook delivery: latency from a state change to the receiver's 200, events/s to 1 and 50
## endpoints, 10,000 events with 30 % of attempts refused; SQLite and PostgreSQL + Redis, 1 and
## 4 workers (docs/benchmarks.md).
bench-webhooks: $(STAMP)
	$(PY) bench/webhooks_bench.py $(ARGS)

clean:
	rm -rf $(VENV) .roughy tests/js/node_modules
