# Celery Lab. `make run` starts the site; `make test` runs every test. Both set up what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run worker test check format bench pygments-css vendor-axe editor clean doctor lock

# One .venv; each target installs its own locked set into it, every pin checked against its
# hash: the site's (requirements.txt), the tests' (-test), lint's (-lint), the bench's (-bench).
# The .txt files are locks made from the .in files by `make lock`; edit the .in, then lock.
define install-lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r $<
	touch $@
endef

$(VENV)/.installed: requirements.txt
	$(install-lock)

$(VENV)/.installed-test: requirements-test.txt
	$(install-lock)

$(VENV)/.installed-lint: requirements-lint.txt
	$(install-lock)

$(VENV)/.installed-bench: requirements-bench.txt
	$(install-lock)

run: $(VENV)/.installed
	@scripts/system-deps.sh redis bubblewrap
	$(PY) run.py $(RUN_ARGS)

# A worker on its own, against the running site's Redis (or REDIS_URL): stop it and start it
# again to watch tasks wait in the queue. Use with `make run RUN_ARGS=--no-worker`.
worker: $(VENV)/.installed
	$(PY) run.py --worker-only

test: $(VENV)/.installed-test
	@scripts/system-deps.sh redis chromium nginx ip bubblewrap
	$(PY) -m pytest $(PYTEST_ARGS)

check: $(VENV)/.installed-lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-lint
	$(VENV)/bin/ruff format .

bench: $(VENV)/.installed-bench
	@scripts/system-deps.sh redis bubblewrap
	$(PY) -m bench

pygments-css: $(VENV)/.installed
	$(PY) -m web.lessons.pygments_css > site/static/css/pygments.css

# What this machine has and lacks for each target, and how to get it. Needs no .venv.
doctor:
	@$(PYTHON) scripts/doctor.py

# Refresh every lock from its .in with uv (pinned here, in a venv of its own): run it after
# changing a .in file, and commit the .in and .txt together.
LOCK_VENV := .venv-lock
UV := $(LOCK_VENV)/bin/uv
LOCK := $(UV) pip compile --quiet --generate-hashes --python-version 3.11 \
	--custom-compile-command "make lock"

$(UV):
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet --disable-pip-version-check uv==0.13.8

lock: $(UV)
	$(LOCK) requirements.in -o requirements.txt
	$(LOCK) -c requirements.txt requirements-test.in -o requirements-test.txt
	$(LOCK) requirements-lint.in -o requirements-lint.txt
	$(LOCK) -c requirements.txt requirements-bench.in -o requirements-bench.txt

# The accessibility engine the browser tests inject (tests/vendor/axe-core, from npm).
vendor-axe:
	scripts/vendor-axe.sh $(AXE_VERSION)

# The playground's editor (CodeMirror 6), bundled from npm into one committed file, so the site
# itself never needs npm or the network. Needs Node.js and npm; versions are pinned in the lock file.
editor:
	cd scripts/editor && npm ci --no-audit --no-fund && npm run build

clean:
	rm -rf $(VENV) $(LOCK_VENV) .pytest_cache .ruff_cache
