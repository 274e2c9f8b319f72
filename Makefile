# Local preview and checks of the notebook blog.
#   make setup   install Jekyll, Chromium, OpenMPI (apt, only what is missing), the Python requirements,
#                and the kernels the site declares (the CNTK post's Python 3.6 kernel; reused when current)
#   make build   execute the notebooks that changed into _posts/ + img/, then jekyll build into _site/
#                and Pagefind's search index into _site/pagefind/
#   make rebuild the same, executing every notebook again (python build.py --force)
#   make serve   build, then serve on http://127.0.0.1:4000/<baseurl>/ with live reload
#   make test    run the whole test suite (tests/site needs jekyll + chromium)
#   make clean   remove what build/serve/test leave behind (not _posts/ and img/, which are committed)

SHELL   := /bin/bash
# A Debian system Python is "externally managed" (PEP 668): pip may not install into it, so
# setup then makes a virtual environment in .venv, and every target uses it when it exists.
VENV    := .venv
EXTERNALLY_MANAGED := $(shell python3 -c 'import os, sysconfig; print(int(os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))))' 2>/dev/null)
PYTHON  ?= $(if $(wildcard $(VENV)/bin/python),$(VENV)/bin/python,python3)
JEKYLL  ?= jekyll
HOST    ?= 127.0.0.1
PORT    ?= 4000
SITE    ?= _site
PYTEST_ARGS ?=
BUILD   ?= $(PYTHON) build.py
# The wheels the tool's own dependencies (pyproject.toml) need, so that the tests install the tool into a
# fresh virtual environment without the network (tests/build_tool/test_package.py)
WHEELHOUSE ?= $(HOME)/.cache/nbjekyll/wheelhouse
# setup may create .venv itself, after PYTHON was decided
SETUP_PYTHON = $(if $(filter 1,$(EXTERNALLY_MANAGED)),$(VENV)/bin/python,$(PYTHON))

# The same packages CI installs (.github/workflows/site.yml); libopenmpi3 is for the CNTK kernel
# (nbjekyll.kernels.cntk-py36.system_packages in _config.yml).
APT_PACKAGES := jekyll jekyll-theme-minima ruby-jekyll-feed ruby-jekyll-seo-tag ruby-jekyll-sitemap \
                ruby-kramdown-parser-gfm ruby-rouge chromium libopenmpi3 $(if $(filter 1,$(EXTERNALLY_MANAGED)),python3-venv python3-pip)

# No Gemfile: never let Jekyll try Bundler (the gem registry may be unreachable)
export JEKYLL_NO_BUNDLER_REQUIRE := true

.PHONY: setup posts build rebuild serve test test-site clean clean-all clean-kernels

setup:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "apt: all packages already installed"; \
	else \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "apt: installing$$missing"; \
	  $$sudo apt-get update && $$sudo apt-get install -y --no-install-recommends $$missing; \
	fi
	@if [ "$(EXTERNALLY_MANAGED)" = 1 ] && [ ! -x $(VENV)/bin/python ]; then \
	  echo "python3 is externally managed: creating $(VENV)"; python3 -m venv $(VENV); \
	fi
	$(SETUP_PYTHON) -m pip install -r requirements.txt
	$(SETUP_PYTHON) -m pip download --quiet --dest $(WHEELHOUSE) $$($(SETUP_PYTHON) -c 'import tomllib; print(" ".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))')
	$(SETUP_PYTHON) build.py --setup-kernels

posts:
	$(BUILD)

# The search index (Pagefind) goes into the built site, after jekyll build
SEARCH_INDEX = $(PYTHON) -m pagefind --site $(SITE) --silent

build: posts
	$(JEKYLL) build --destination $(SITE)
	$(SEARCH_INDEX)

# Execute every notebook again, whatever the cache says, then build the site.
rebuild:
	$(BUILD) --force
	$(JEKYLL) build --destination $(SITE)
	$(SEARCH_INDEX)

# build.py --watch rebuilds a post when its notebook or a file it uses changes; jekyll then
# reloads the page in the browser.
serve: build
	@$(BUILD) --watch & watcher=$$!; \
	trap 'kill $$watcher 2>/dev/null' EXIT; \
	$(JEKYLL) serve --livereload --host $(HOST) --port $(PORT) --destination $(SITE)

test:
	$(PYTHON) -m pytest $(PYTEST_ARGS)

test-site:
	$(PYTHON) -m pytest tests/site $(PYTEST_ARGS)

clean:
	rm -rf $(SITE) .jekyll-cache .jekyll-metadata .sass-cache tests/screenshots .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# also the build tool's execution cache: the next build executes every notebook again
clean-all: clean
	rm -rf _build

# the kernels make setup created (.kernels/); the next make setup creates them again
clean-kernels:
	rm -rf .kernels
