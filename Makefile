# `make run` and `make test` do all set-up on a fresh machine.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
export HUBTRAIL_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: run test lint typecheck pytest chromium bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/hubtrail serve --demo

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict src

pytest: $(STAMP) $(NODE_STAMP) chromium
	$(VENV)/bin/pytest

# JavaScript the tests use (Segment's analytics-next), pinned by package-lock.json.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# tests/browser drive Debian's Chromium through Playwright; without root they skip (fail under CI).
chromium:
	@[ -x /usr/bin/chromium ] || [ "$$(id -u)" != 0 ] \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test: lint typecheck pytest

bench: $(STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq wrk; }
	$(PY) -m bench.ingest
	$(PY) -m bench.collector
	$(PY) -m bench.segment
	$(PY) -m bench.forward
	$(PY) -m bench.process
	$(PY) -m bench.search
	$(PY) -m bench.dashboard

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
