# Two commands on a fresh machine:  `make demo` (offline answer from the seed) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
QUESTION ?= 到2025年的目标是什么？

.PHONY: demo test eval setup setup-test browser serve clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -e .

setup-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; no browser download),
# and a CJK font so screenshots show Chinese.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; \
	  else echo "install Debian's chromium (sudo apt-get install chromium) for the browser tests"; fi; fi

demo: setup
	$(BIN)/rag ingest seeds/
	$(BIN)/rag ask "$(QUESTION)"

test: setup-test browser
	$(BIN)/python -m pytest -q

eval: setup-test
	$(BIN)/python -m eval --mode all

serve: setup
	$(BIN)/rag ingest seeds/
	$(BIN)/rag serve

clean:
	rm -rf $(VENV) .rag eval/out test-artifacts
