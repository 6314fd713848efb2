# Every target creates its own virtual environment first; nothing is needed but python3.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo kafka-demo test check lint typecheck archcheck unit bench bench-check clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/omnibase-runtime-validate-contract --env dev contracts/
	$(PY) -m onex_stream.cli.demo

# The bundled Kafka-protocol broker (tansu), the worker as a subprocess, any Kafka client.
kafka-demo: $(STAMP)
	$(VENV)/bin/omnibase-runtime-validate-contract --env dev contracts/runtime/kafka_demo_host.yaml
	$(PY) -m onex_stream.cli.kafka_demo

archcheck: $(STAMP)
	$(PY) tests/architecture/archcheck.py .

lint: $(STAMP)
	$(VENV)/bin/ruff check onex_stream tests
	$(VENV)/bin/ruff format --check onex_stream tests

typecheck: $(STAMP)
	$(VENV)/bin/mypy --no-incremental

check: archcheck lint typecheck

unit: $(STAMP)
	$(VENV)/bin/pytest --cov --cov-report=term:skip-covered -q
	$(VENV)/bin/coverage report --include='onex_stream/core/*' --fail-under=90 > /dev/null \
		|| (echo "onex_stream/core coverage is below 90%"; exit 1)

test: check unit bench-check

# ~20 s, ratios only: fails when a bare Faust agent's CPU per envelope over the host's,
# in the same run, is more than 25% below tests/benchmarks/baseline.json.
bench-check: $(STAMP)
	$(PY) -m tests.benchmarks.quick_ratio

# Quix Streams, bench_kafka's reference, in an environment of its own: it pins pydantic
# below the version the project runs on.
QUIX := .venv-quix
$(QUIX)/.installed: tests/benchmarks/quix-requirements.txt
	python3 -m venv $(QUIX)
	$(QUIX)/bin/python -m pip install -q -r tests/benchmarks/quix-requirements.txt
	touch $@

# Figures only, nothing asserted (docs/benchmarks.md); bench_kafka starts its own broker.
bench: $(STAMP) $(QUIX)/.installed
	$(PY) -m tests.benchmarks.bench_kafka
	$(PY) -m tests.benchmarks.bench_inmemory_host
	$(PY) -m tests.benchmarks.bench_head_of_line
	$(PY) -m tests.benchmarks.bench_handlers
	$(PY) -m tests.benchmarks.bench_http_io
	$(PY) -m tests.benchmarks.bench_http_layers
	$(PY) -m tests.benchmarks.bench_metrics_scrape

clean:
	rm -rf $(VENV) $(QUIX) .coverage .mypy_cache .ruff_cache .pytest_cache
