# Two commands matter: `make run` and `make test`. The other targets mirror CI.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MANAGE := $(PY) manage.py
# The site runs with DEBUG off unless told otherwise; these development commands turn it on.
export DEBUG ?= 1
# The suite runs in one process per core.
PYTEST_ARGS ?= -n auto

.PHONY: run test lint typecheck hooks lock format messages translations ci vendor bench bench-inbox bench-uploads bench-delivery bench-first-view audit worker clean

# Exactly the versions CI tested, checked against their hashes (production installs requirements.lock).
$(STAMP): requirements-dev.lock requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(STAMP)

# After changing requirements.txt or requirements-dev.txt: resolve the whole tree again, with hashes.
LOCK := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host
lock: $(STAMP)
	$(LOCK) --output-file requirements.lock requirements.txt
	$(LOCK) --output-file requirements-dev.lock requirements-dev.txt

translations: $(STAMP)
	$(MANAGE) compiletranslations

run: translations
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo
	@echo ""
	@echo "  Clinic Portal is starting on http://127.0.0.1:8000/"
	@echo "  Staff area: http://127.0.0.1:8000/admin/"
	@echo "    create the first admin:  $(MANAGE) createsuperuser"
	@echo "    a coordinator:           $(MANAGE) create_coordinator NAME --email ADDRESS --languages ru,mn"
	@echo "    at the first sign-in, scan the QR code with an authenticator app (FreeOTP, Google or"
	@echo "    Microsoft Authenticator) and keep the backup codes it shows."
	@echo ""
	@# The background worker delivers emails (printed to this console in development).
	$(MANAGE) run_worker --interval 2 & worker=$$!; trap 'kill $$worker' EXIT INT TERM; $(MANAGE) runserver 127.0.0.1:8000

test: translations
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy .

# Once per clone: git then runs the checks of .pre-commit-config.yaml before every commit.
hooks: $(STAMP)
	$(VENV)/bin/pre-commit install

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Extract new UI strings (needs GNU gettext) and check every language is complete.
messages: $(STAMP)
	$(MANAGE) makemessages --all --no-location --no-obsolete --ignore=.venv --ignore=node_modules --ignore=tests --ignore=bench
	$(MANAGE) compiletranslations
	$(MANAGE) checktranslations

worker: translations
	$(MANAGE) run_worker

vendor:
	bin/vendor-assets

bench-inbox: translations
	$(PY) bench/inbox.py

bench-uploads: translations
	$(PY) bench/uploads.py

bench-delivery: translations
	$(PY) bench/delivery.py

# The first view of the clonus page on a phone: bytes transferred per resource and in total (budget 60 KB).
bench-first-view: translations
	$(PY) bench/first_view.py

# The whole benchmark (needs wrk: apt-get install wrk); BENCH_ARGS="--sizes 1000 --duration 5 --repeats 1".
bench: translations
	$(PY) bench/run.py $(BENCH_ARGS)

# Lighthouse (mobile) on the main pages of a production-like server; needs npx and Chromium.
audit: translations
	$(PY) bench/lighthouse.py $(AUDIT_ARGS)

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
