# Celery Lab. `make run` starts the site; `make test` runs every test. Both set up what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run worker test check format bench pygments-css editor clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	@scripts/system-deps.sh redis bubblewrap
	$(PY) run.py $(RUN_ARGS)

# A worker on its own, against the running site's Redis (or REDIS_URL): stop it and start it
# again to watch tasks wait in the queue. Use with `make run RUN_ARGS=--no-worker`.
worker: $(VENV)/.installed
	$(PY) run.py --worker-only

test: $(VENV)/.installed
	@scripts/system-deps.sh redis chromium bubblewrap
	$(PY) -m pytest $(PYTEST_ARGS)

check: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .

bench: $(VENV)/.installed
	@scripts/system-deps.sh redis bubblewrap
	$(PY) -m bench

pygments-css: $(VENV)/.installed
	$(PY) -m web.pygments_css > site/static/css/pygments.css

# The playground's editor (CodeMirror 6), bundled from npm into one committed file, so the site
# itself never needs npm or the network. Needs Node.js and npm; versions are pinned in the lock file.
editor:
	cd scripts/editor && npm ci --no-audit --no-fund && npm run build

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
