# The two commands a newcomer needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
DEBIAN_PACKAGES := chromium fonts-noto-cjk gettext sip-tester baresip espeak-ng sox kamailio npm \
	libspandsp2 dovecot-imapd libpangoft2-1.0-0 poppler-utils
# Which executable (or file) proves each Debian package is present.
DEBIAN_PROBES := /usr/bin/chromium /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
	/usr/bin/msgfmt /usr/bin/sipp /usr/bin/baresip /usr/bin/espeak-ng /usr/bin/sox /usr/sbin/kamailio \
	/usr/bin/npm /usr/lib/x86_64-linux-gnu/libspandsp.so.2 /usr/lib/dovecot/imap \
	/usr/lib/x86_64-linux-gnu/libpangoft2-1.0.so.0 /usr/bin/pdftoppm

.PHONY: run dev test venv debian messages lint check clean demo axe

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

debian:
	@missing=""; i=0; probes=($(DEBIAN_PROBES)); \
	for pkg in $(DEBIAN_PACKAGES); do \
	  [ -e "$${probes[$$i]}" ] || missing="$$missing $$pkg"; i=$$((i+1)); \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Please run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

messages: venv
	DJANGO_SETTINGS_MODULE=hotline.settings_test $(PY) -m django compilemessages -v0 --ignore '.venv/*'

# `make run` serves as production does (no debug pages; static files collected and served by
# whitenoise); without HOTLINE_SECRET_KEY the demo's key is generated once into the data folder.
run: venv debian messages
	HOTLINE_DEBUG=$${HOTLINE_DEBUG:-0} \
	HOTLINE_SECRET_KEY_FILE=$${HOTLINE_SECRET_KEY_FILE:-$${HOTLINE_DATA_DIR:-var}/secret_key} \
	$(PY) -m hotline.launcher --host $(HOST) --port $(PORT)

# `make dev`: the same with Django's debug pages, for developers only.
dev: venv debian messages
	HOTLINE_DEBUG=1 $(PY) -m hotline.launcher --host $(HOST) --port $(PORT)

demo: venv
	HOTLINE_DEBUG=$${HOTLINE_DEBUG:-1} $(PY) manage.py migrate -v0
	HOTLINE_DEBUG=$${HOTLINE_DEBUG:-1} $(PY) manage.py load_demo

# axe-core for the portal's accessibility check (tests/e2e), into the untracked node_modules/.
AXE_VERSION := 4.10.2
axe: debian
	test -f node_modules/axe-core/axe.min.js || npm install --no-save --no-audit --no-fund axe-core@$(AXE_VERSION)

# Two pytest workers (pytest-xdist): the suite waits on live peers, sockets and browsers much of
# the time, so two processes on two cores finish it in well under the serial time. Each worker
# has its own SQLite file or PostgreSQL test database. PYTEST_WORKERS=0 runs it in one process.
# The schemathesis module runs after, in one process: its cases are generated inside one test
# item per operation group, and its last test checks what the others tried in that process.
PYTEST_WORKERS ?= 2
SERIAL_TESTS := tests/api/test_schemathesis.py
test: venv debian messages axe
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=15 \
	  --ignore=$(SERIAL_TESTS) $(PYTEST_ARGS)
	$(PY) -m pytest -p no:xdist $(PYTEST_ARGS) $(SERIAL_TESTS)

lint: venv
	$(VENV)/bin/ruff check hotline tests bench
	$(VENV)/bin/mypy hotline tests bench
	$(VENV)/bin/lint-imports

check: lint test

clean:
	rm -rf var $(VENV)
