# Every target builds the virtual environment it needs; python3 (3.11+) and make are enough.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB ?= data/scrape.db
SAMPLES := $(wildcard data/samples/*)

.PHONY: ingest test bench bench-quality bench-fetch bench-dedup venv clean-venv

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

test: $(STAMP)
	$(BIN)/python -m pytest -q

# bench-quality and bench-dedup read ../shared/bench (on the team's machines, not in a user's
# clone); bench-fetch needs nothing but nginx on loopback, which it installs with apt-get if
# missing (root).
bench: bench-quality bench-fetch bench-dedup

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

bench-quality: $(VENV)/.bench-installed
	$(BIN)/python bench/quality.py

bench-fetch: $(VENV)/.bench-installed
	$(BIN)/python bench/fetch.py

bench-dedup: $(VENV)/.bench-installed
	$(BIN)/python bench/dedup.py

clean-venv:
	rm -rf $(VENV)
