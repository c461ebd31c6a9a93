# Future Leaders: `make run` serves the platform, `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

# Under CI the suite runs against the real PostgreSQL and Redis of this machine.
ifeq ($(CI),true)
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/future_leaders
export REDIS_URL ?= redis://127.0.0.1:6379/0
endif

.PHONY: run setup test test-fast lint format bench

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(INSTALLED)

# The collected static files (var/static), collected again only when a source folder's file,
# the installed packages (theirs) or the settings have changed: collecting compresses every
# script and stylesheet with Brotli (12 s here).
COLLECTED := var/static/staticfiles.json
$(COLLECTED): $(INSTALLED) config/settings.py $(shell git ls-files static '*/static/*' 2>/dev/null)
	$(PY) manage.py collectstatic --noinput --verbosity 0
	touch $(COLLECTED)

# Demo mode: demo logins, HTTP on localhost.
setup run: export DEBUG = true
setup run: export DEMO_MODE = true

setup: $(INSTALLED) $(COLLECTED)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_seeds --demo

# Beat runs beside the web server and sends reminders on schedule. Without Redis its tasks
# run inside it (eager mode), so nothing else is needed; emails print to this console.
run: setup
	$(PY) -m celery -A config beat --loglevel=INFO & BEAT=$$!; \
	trap 'kill $$BEAT 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:8000

# Two workers (pytest-xdist), each on a test database and Redis databases of its own
# (tests/xdist_redis.py: worker N moves REDIS_URL up by 2N databases). Each worker asks for
# the next test as it finishes one (--maxschedchunk=1): in chunks, one worker was handed
# every browser journey at the end and ran them alone for 200 s while the other sat idle.
TEST_WORKERS ?= 2
PARALLEL := -n $(TEST_WORKERS) --maxschedchunk=1 -p tests.xdist_redis

# Python keeps the compiled test modules (pytest's rewritten asserts) and the project's
# modules, even where the environment says not to (PYTHONDONTWRITEBYTECODE): each pytest
# process, and each Django process a test starts, would compile them again (6 s of CPU instead
# of 2 for a `manage.py check`). The files go to __pycache__ folders, which git ignores.
test test-fast: export PYTHONDONTWRITEBYTECODE =

# Two passes at once: the tests that time requests against a limit (marker `serial`: 112 s
# alone, two thirds of a core, much of it waiting on the processes they start) in one process,
# beside the workers running everything else at a lower priority (nice), so that the workers'
# browsers, checkers and servers take none of the time the first pass measures. The serial
# pass takes the Redis databases after the workers' (tests/xdist_redis.py); its report
# follows theirs. The run fails if either pass does.
SERIAL_LOG := var/test-serial.log
test: $(INSTALLED) $(COLLECTED)
	@mkdir -p $(dir $(SERIAL_LOG))
	TEST_REDIS_WORKER=$(TEST_WORKERS) $(PY) -m pytest -p tests.xdist_redis -m serial \
		> $(SERIAL_LOG) 2>&1 & serial=$$!; \
	nice -n 15 $(PY) -m pytest $(PARALLEL) -m "not serial"; status=$$?; \
	wait $$serial || status=1; cat $(SERIAL_LOG); exit $$status

# The inner loop: every test but those that start processes beside them (browser journeys,
# Celery workers, redis-server; marker `processes`). `make test` runs them all.
test-fast: $(INSTALLED)
	$(PY) -m pytest $(PARALLEL) -m "not processes and not e2e"

# The benchmarks (bench/run.py; never part of `make test`), against this machine's PostgreSQL
# and Redis; results go on top of bench/RESULTS.md. BENCH_ARGS='--only pages --args pages=--reuse'
bench: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/future_leaders
bench: $(INSTALLED)
	$(PY) bench/run.py $(BENCH_ARGS)

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
