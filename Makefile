# The two commands a newcomer needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
DEBIAN_PACKAGES := chromium fonts-noto-cjk gettext sip-tester baresip espeak-ng sox kamailio libspandsp2
# Which executable (or file) proves each Debian package is present.
DEBIAN_PROBES := /usr/bin/chromium /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc \
	/usr/bin/msgfmt /usr/bin/sipp /usr/bin/baresip /usr/bin/espeak-ng /usr/bin/sox /usr/sbin/kamailio \
	/usr/lib/x86_64-linux-gnu/libspandsp.so.2

.PHONY: run dev test venv debian messages lint check clean demo

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

test: venv debian messages
	$(PY) -m pytest --durations=15 $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check hotline tests bench
	$(VENV)/bin/mypy hotline tests bench
	$(VENV)/bin/lint-imports

check: lint test

clean:
	rm -rf var $(VENV)
