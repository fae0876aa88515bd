# RCF Tracker: `make run` starts everything, `make test` runs every test.
# Both set up the virtualenv from the lock file first (only when it changed).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.lock | cut -c1-16)
HOST ?= 127.0.0.1
PORT ?= 8000
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: run test setup lint lock bench clean port-free
# The port check comes first, before any set-up, even under `make -j`.
.NOTPARALLEL:

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "RCF Tracker needs Python 3.11 (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || { echo "Set-up: creating the virtualenv in $(VENV)/"; $(PYTHON) -m venv $(VENV); }
	@echo "Set-up: installing the Python packages pinned in requirements.lock (the first time takes a couple of minutes)..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	@echo "Set-up: packages installed."
	rm -f $(VENV)/.installed-*
	touch $@

# Everything a fresh clone needs before it can serve or test: packages,
# compiled translations, folders for the embedded broker, the database schema.
setup: $(STAMP)
	@mkdir -p var/celery/queue var/celery/processed var/celery/results var/celery/control var/staticfiles
	@echo "Set-up: compiling the translations (Korean)..."
	@$(BIN)/python manage.py compile_translations
	@echo "Set-up: bringing the database schema up to date..."
	@$(BIN)/python manage.py migrate --no-input

# First of all, before any set-up: a port in use is said at once (not after starting a second
# worker and beat). Links in e-mails, the calendar and webhooks follow HOST and PORT (SITE_URL).
port-free:
	@$(PYTHON) -c "$$PORT_FREE" '$(HOST)' '$(PORT)'

# Whether something answers on HOST:PORT (IPv4 or IPv6), with a clear message for a PORT that is no port.
define PORT_FREE
import socket, sys
host, port = sys.argv[1], sys.argv[2]
if not port.isdigit() or not 0 < int(port) < 65536:
    sys.exit(f"PORT={port!r} is not a port number (1-65535): make run PORT=8001")
try:
    socket.create_connection((host, int(port)), timeout=2).close()
except socket.gaierror:
    sys.exit(f"HOST={host!r} is not an address this machine can serve on")
except OSError:
    sys.exit(0)
sys.exit(f"port {port} is in use on {host}: stop what uses it, or choose another one: make run PORT=8001")
endef
export PORT_FREE

# Stopping: Ctrl-C reaches honcho (same process group), which stops web, worker and beat and ends with
# 130; the recipe's shell outlives the interrupt (`trap true INT`) and says so, instead of make's
# "Error 130". honcho starts the three in sessions of their own, so a closed terminal (HUP) or a TERM to
# make must go through honcho too: it is started with HUP ignored, and the shell passes HUP/TERM on as TERM.
run: port-free setup
	@echo "Set-up: loading the demo logins and sample data..."
	@$(BIN)/python manage.py seed_demo
	@echo "RCF Tracker on http://$(HOST):$(PORT)/ (admin: http://$(HOST):$(PORT)/admin/). Ctrl-C stops web, worker and beat."
	@trap true INT; trap '' HUP; \
	  HOST=$(HOST) PORT=$(PORT) SITE_URL=$${SITE_URL:-http://$(HOST):$(PORT)} RCF_DEV_RUN=1 \
	  $(BIN)/honcho --no-prefix -f Procfile.dev start & honcho=$$!; \
	  trap 'kill -TERM $$honcho 2>/dev/null' HUP TERM; \
	  while :; do wait $$honcho; status=$$?; kill -0 $$honcho 2>/dev/null || break; done; \
	  if [ $$status -eq 130 ]; then echo "RCF Tracker stopped."; else exit $$status; fi

# The suite's tasks go to a broker folder of its own (without Redis), removed afterwards: nothing is
# left under var/celery.
test: setup
	@celery_dir=$$(mktemp -d) && mkdir -p $$celery_dir/queue $$celery_dir/processed $$celery_dir/results $$celery_dir/control \
	  && RCF_CELERY_DIR=$$celery_dir $(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; rm -rf "$$celery_dir"; exit $$status

lint: $(STAMP)
	$(BIN)/ruff check .

# Re-pin every dependency after changing pyproject.toml.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra dev -o requirements.lock pyproject.toml

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var/rcf.sqlite3* var/celery var/celerybeat-schedule* var/staticfiles
