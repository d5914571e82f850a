# Two commands matter: `make run` and `make test`. The other targets mirror CI.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MANAGE := $(PY) manage.py
# The site runs with DEBUG off unless told otherwise; these development commands turn it on.
export DEBUG ?= 1

.PHONY: run test lint format messages translations ci vendor bench bench-inbox bench-uploads bench-delivery audit worker clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

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

bench: translations
	$(PY) bench/run.py

# Lighthouse (mobile) on the main pages of a production-like server; needs npx and Chromium.
audit: translations
	$(PY) bench/lighthouse.py $(AUDIT_ARGS)

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
