# valetkey: every target creates and uses .venv; nothing needs to be installed by hand.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo demo-mcp test test-fast lint docs bench bench-tools browser interop clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,mcp]'
	@# argon2id: PyPI's argon2-cffi-bindings wheel runs on any x86-64; built here for this CPU
	@# (AVX2 where it has it) a verify costs about 2.4x less (bench/provider/argon2_verify.py)
	CFLAGS="-O3 -march=native" $(PY) -m pip install --quiet --no-cache-dir --force-reinstall \
	  --no-deps --no-binary argon2-cffi-bindings "argon2-cffi-bindings==$$($(PY) -c \
	  'import importlib.metadata as m; print(m.version("argon2-cffi-bindings"))')" \
	  || echo "kept PyPI's argon2-cffi-bindings wheel (building it here failed)"
	@# bytecode for the editable source too, as an installed wheel has (start-up compiles nothing)
	$(PY) -m compileall -q src >/dev/null
	touch $(STAMP)

## interop: the third-party clients the interoperability tests run (npm, from the lock file)
INTEROP_TS := tests/interop/mcp_ts_client
interop: $(INTEROP_TS)/node_modules/.installed

$(INTEROP_TS)/node_modules/.installed: $(INTEROP_TS)/package-lock.json
	npm ci --prefix $(INTEROP_TS) --no-audit --no-fund --loglevel=error
	touch $@

## browser: Debian's chromium for the Playwright tests (Playwright's own download cannot work here)
browser:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: install
	$(VENV)/bin/valetkey demo

## demo-mcp: the MCP authorization walkthrough (sandbox, reference MCP server, MCP client)
demo-mcp: install
	$(VENV)/bin/valetkey demo --mcp

test: install browser interop
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow and not browser"

lint: install
	$(VENV)/bin/ruff check src tests tools $(wildcard bench)
	$(VENV)/bin/ruff format --check src tests tools $(wildcard bench)
	$(VENV)/bin/mypy --strict src tools
	$(PY) tools/import_cycles.py src

## docs: regenerate the check reference from the catalogue (a test fails when it is stale)
docs: install
	$(PY) -m valetkey.catalogue.docs > docs/checks.md

bench: install bench-tools
	$(PY) bench/run.py

## bench-tools: Debian's wrk (the load generator) and nginx (scale.py's load balancer)
bench-tools:
	@test -x /usr/bin/wrk -a -x /usr/sbin/nginx || { \
	  echo "installing Debian's wrk and nginx for the benchmarks"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx >/dev/null; }

clean:
	rm -rf $(VENV) .valetkey .pytest_cache .mypy_cache .ruff_cache
