# Every target builds the virtual environment it needs; python3 (3.11+) and make are enough.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= data/scrape.db
SAMPLES := $(wildcard data/samples/*)

.PHONY: ingest test bench bench-quality bench-fetch bench-dedup bench-store bench-pipeline bench-web bench-crawl browse venv clean-venv

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

# make ingest URL="https://a/1 https://b/2 page.html"   (no URL: the offline samples in data/samples/)
# Each word is quoted on its own, so a URL's "&" or "?" never reaches the shell.
# FLAGS passes options through: make ingest URL=https://example.com/sitemap.xml FLAGS="--max-age 12"
ingest: $(STAMP)
	$(BIN)/scrape ingest --db '$(DB)' $(FLAGS) $(foreach u,$(if $(URL),$(URL),$(SAMPLES)),'$(u)')

# make batch: every source of data/sources.toml in one locked, recorded run (offline samples
# by default); FLAGS passes options through: make batch FLAGS="--max-age 12 --log-json"
.PHONY: batch
batch: $(STAMP)
	$(BIN)/scrape batch --sources data/sources.toml --db '$(DB)' $(FLAGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q

# bench-quality, bench-dedup, bench-store, bench-pipeline and bench-web read ../shared/bench (on the team's
# machines, not in a user's clone); bench-fetch and bench-pipeline serve pages with nginx on
# loopback, which they install with apt-get if missing (root).
bench: bench-quality bench-fetch bench-dedup bench-store bench-pipeline bench-web bench-crawl

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

bench-quality: $(VENV)/.bench-installed
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/markdown_quality.py
	$(BIN)/python bench/stage_costs.py

bench-fetch: $(VENV)/.bench-installed
	$(BIN)/python bench/fetch.py

bench-dedup: $(VENV)/.bench-installed
	$(BIN)/python bench/dedup.py

bench-store: $(VENV)/.bench-installed
	$(BIN)/python bench/store.py

bench-pipeline: $(VENV)/.bench-installed
	$(BIN)/python bench/pipeline_speed.py

bench-web: $(VENV)/.bench-installed $(VENV)/.browse-installed
	$(BIN)/python bench/web.py

# bench-crawl reads ../shared/bench too, and serves its site itself (Python, 127.0.0.1: no nginx).
bench-crawl: $(VENV)/.bench-installed
	$(BIN)/python bench/crawl.py

# make browse: the reader (pipeline/web: /search, /articles/ID, /health) and Datasette's own
# views of the database (DB) on http://$(HOST):$(PORT). Datasette reads through read-only
# connections (not immutable ones), so a running ingest or batch goes on writing. Titles,
# facets and search of its table views come from data/datasette-metadata.json, renamed to the
# database's file name. FLAGS passes options through: make browse FLAGS="--open"
PORT ?= 8001
HOST ?= 127.0.0.1
$(VENV)/.browse-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,browse]'
	touch $@

browse: $(VENV)/.browse-installed
	@test -f '$(DB)' || { echo "make browse: no database at $(DB) (make ingest creates one; DB=PATH names another)" >&2; exit 2; }
	$(BIN)/python -m pipeline.cli_store data/datasette-metadata.json '$(DB)' > $(VENV)/browse-metadata.json
	$(BIN)/datasette serve '$(DB)' --host '$(HOST)' --port '$(PORT)' --metadata $(VENV)/browse-metadata.json $(FLAGS)

clean-venv:
	rm -rf $(VENV)
