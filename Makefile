# Two commands on a fresh machine: `make run` (demo on http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app lms
# Where `make test` runs the suite the second time, and the Redis database the tests flush.
# Override on the command line: make test PG_URL=... REDIS_URL=...
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
# Not taken from the shell: a REDIS_URL exported for the app must never be flushed by tests.
REDIS_URL = redis://127.0.0.1:6379/15
PYTEST_ARGS ?=
# The suite configures its own app; settings exported in the shell must not leak into it.
TEST_ENV := env -u DATABASE_URL -u CELERY_BROKER_URL -u CELERY_RESULT_BACKEND -u REDIS_URL \
	-u MAIL_SERVER -u LMS_ENV -u SECRET_KEY -u TEST_DATABASE_URL TEST_REDIS_URL=$(REDIS_URL)
PYTEST := $(BIN)/python -m pytest $(PYTEST_ARGS)

.PHONY: run test test-sqlite test-postgres bench lint install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Editable installs: code changes need no reinstall, only a changed pyproject.toml does.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) run --host 127.0.0.1 --port 5000

# Both runs always happen; the target fails if either does. The bench extra too: the
# PostgreSQL pass runs the assessment load benchmark small (tests/app/test_load_smoke.py).
test: $(VENV)/.installed-test $(VENV)/.installed-bench
	@status=0; \
	echo "== tests on SQLite"; \
	$(TEST_ENV) $(PYTEST) || status=1; \
	echo "== tests on PostgreSQL ($(PG_URL))"; \
	$(TEST_ENV) TEST_DATABASE_URL=$(PG_URL) $(PYTEST) || status=1; \
	exit $$status

test-sqlite: $(VENV)/.installed-test $(VENV)/.installed-bench
	$(TEST_ENV) $(PYTEST)

test-postgres: $(VENV)/.installed-test $(VENV)/.installed-bench
	$(TEST_ENV) TEST_DATABASE_URL=$(PG_URL) $(PYTEST)

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench.summary

lint: $(VENV)/.installed-test
	$(BIN)/ruff check lms courses assessments credentials tests bench
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance .pytest_cache build
