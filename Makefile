# The two commands: `make run` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint test-deps test-sqlite test-postgresql test-s3 bench bench-upload bench-processing bench-cut bench-memory bench-render bench-webhooks bench-s3 clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

## Start the service on the embedded default (SQLite + ./.roughy), API on 127.0.0.1:8000.
run: $(STAMP)
	$(VENV)/bin/roughy serve

## Install what the tests need (ffmpeg, tus-js-client), lint, then run the suite twice:
## SQLite + SQLite queue, and PostgreSQL + Redis queue; then the scale-out pass on S3.
test: $(STAMP) test-deps lint test-sqlite test-postgresql test-s3

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

## Scale-out on S3: PostgreSQL + Redis + an S3 server (Swift's s3api, started on free loopback
## ports by the session: scripts/s3-server-start.sh) with two API nodes and two workers: the
## storage contract, the multi-node tests and a focused subset (uploads with real clients,
## processing, a cut and a render read from S3); the storage contract again with the server's
## part limit at 1,000 (Swift's own default).
S3_SUBSET := tests/storage tests/scaleout tests/test_uploads.py tests/test_processing.py \
	tests/test_clients.py::test_tuspy_uploads_real_media_in_small_chunks \
	tests/test_clients.py::test_tus_js_client_small_chunks \
	tests/test_clients.py::test_guide_curl_loop_resumes_from_the_head_offset \
	tests/test_cuts.py::test_the_cut_keeps_the_second_take_without_the_um \
	tests/test_renders.py::test_the_cut_renders_to_720p_mp4_with_the_second_take_only_upright_in_sync \
	tests/test_renders.py::test_deleting_the_asset_deletes_its_renders_and_their_files
test-s3: $(STAMP)
	$(VENV)/bin/pytest --db postgresql --queue redis --storage s3 $(S3_SUBSET)
	$(VENV)/bin/pytest --db postgresql --queue redis --storage s3 --s3-max-parts 1000 tests/storage

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

## S3 storage (issue 23): a 2 GiB upload through two API nodes into Swift's s3api (one PATCH,
## and 50 MiB PATCHes alternating between the nodes), eight at once, peak RSS at 256 MiB and
## 2 GiB, S3 requests counted, against boto3's upload_file into the same bucket (about 10 min).
bench-s3: $(STAMP)
	$(PY) bench/s3_bench.py $(ARGS)

clean:
	rm -rf $(VENV) .roughy tests/js/node_modules
