# gongkai — two commands: `make run` (demo on SQLite) and `make test` (every check).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: run test checks pytest-sqlite pytest-postgres install install-dev messages lint bench scale-test clean

$(VENV)/.installed: pyproject.toml constraints.txt
	mkdir -p var
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e .
	touch $@

# The directory extra (python-ldap) builds against Debian's libldap2-dev and libsasl2-dev:
# installed with the dev tools where they are, else its tests are skipped with the reason.
$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@if [ -e /usr/include/ldap.h ] && [ -e /usr/include/sasl/sasl.h ]; then \
		$(PY) -m pip install --quiet -c constraints.txt -e '.[directory]'; \
	else echo "directory extra not installed (apt-get install libldap2-dev libsasl2-dev)"; fi
	touch $@

install: $(VENV)/.installed messages
install-dev: $(VENV)/.installed-dev messages

# Compile the translation catalogues with polib (no GNU gettext needed on the machine).
messages: $(VENV)/.installed
	$(PY) -m gongkai.core.catalogues compile

run: install
	@if [ -n "$$AUTH_LDAP_SERVER_URI" ]; then \
		$(PY) -m pip install --quiet -c constraints.txt -e '.[directory]'; fi
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ledger_key create --if-missing
	$(PY) manage.py witness_key create --if-missing
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo ""
	@echo "  gongkai is serving the demo company at http://$(HOST):$(PORT)/"
	@echo "  (with its task worker beside it: reminders, e-mail, chat robots, imports)"
	@echo "  Demo logins (password: gongkai-demo):"
	@echo "    union, leader, supervisor, discipline, depthead, teamlead, rep, employee"
	@echo ""
	SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} $(PY) manage.py serve --bind $(HOST):$(PORT) \
		--workers $(WORKERS) --access-log

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Every check runs even when an earlier one fails (make -k), so one red run shows every
# failure; `make test` fails at the end if any did. The two databases' suites run side by
# side (one per core; each prints its report when it ends): nothing in a test run is shared
# between them (in-memory SQLite, a PostgreSQL test database, temporary files of their own).
test: install-dev
	@status=0; \
	$(MAKE) --no-print-directory -k lint checks || status=1; \
	$(MAKE) --no-print-directory -k -j2 --output-sync=target pytest-sqlite pytest-postgres \
		|| status=1; \
	exit $$status

checks: install-dev
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py check
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=check-deploy-$$(printf '%064d' 0) \
		ALLOWED_HOSTS=gongkai.example DATABASE_URL=postgres://gongkai@127.0.0.1:9/gongkai \
		REDIS_URL=redis://127.0.0.1:9/0 LEDGER_SIGNING_KEY="$$($(PY) -m gongkai.core.tlog.notes gongkai.example/ledger)" \
		$(PY) manage.py check --deploy --fail-level WARNING

pytest-sqlite: install-dev
	@echo "== pytest on SQLite =="
	env -u DATABASE_URL DJANGO_SETTINGS_MODULE=config.settings.test $(VENV)/bin/pytest --durations=10 $(PYTEST_ARGS)

pytest-postgres: install-dev
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== pytest on PostgreSQL =="; \
		DATABASE_URL="$$TEST_DATABASE_URL" DJANGO_SETTINGS_MODULE=config.settings.test \
			$(VENV)/bin/pytest --durations=10 $(PYTEST_ARGS); \
	else \
		echo "== pytest on PostgreSQL: skipped (TEST_DATABASE_URL is not set) =="; \
	fi

bench: install-dev
	$(PY) -m bench.run

# The scale-out test on loopback: nginx, two gunicorn app servers, a PostgreSQL and a Redis of
# its own, two task workers; four faults under load (not part of `make test`). About ten
# minutes; needs Debian's nginx, redis-server and PostgreSQL 15. Figures in
# bench/results/scale-test.md and docs/RELIABILITY.md.
scale-test: install-dev
	$(PY) -m tools.scaletest

clean:
	rm -rf $(VENV) staticfiles var/*.sqlite3* .mypy_cache .ruff_cache
